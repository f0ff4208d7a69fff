-- ---
-- name: AWS IAM users
-- description: IAM users with their creation date and when their password was last used.
-- provider: aws
-- provider_version: registry source aws/v00.00.00000 at commit 2f6fff53
-- resource: aws.iam.users
-- cron: 0 6 * * *
-- table: aws_iam_users
-- keys: UserId
-- ---
SELECT UserName, UserId, Arn, Path, CreateDate, PasswordLastUsed
FROM aws.iam.users
WHERE region = 'us-east-1'
