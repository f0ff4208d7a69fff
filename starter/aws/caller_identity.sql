-- ---
-- name: AWS account identity
-- description: The account and principal the credentials belong to (one row per profile).
-- provider: aws
-- provider_version: registry source aws/v00.00.00000 at commit 2f6fff53
-- resource: aws.sts.caller_identities
-- cron: 0 6 * * 1
-- table: aws_caller_identity
-- keys: Account
-- ---
SELECT Account, Arn, UserId
FROM aws.sts.caller_identities
WHERE region = 'us-east-1'
