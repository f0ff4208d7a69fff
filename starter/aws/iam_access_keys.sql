-- ---
-- name: AWS IAM access keys and their age
-- description: Access keys with their user, status and creation date (age = now - CreateDate, computed in the dashboard or SQL).
-- provider: aws
-- provider_version: registry source aws/v00.00.00000 at commit 2f6fff53
-- resource: aws.iam.access_keys
-- cron: 0 6 * * *
-- table: aws_iam_access_keys
-- keys: AccessKeyId
-- ---
SELECT UserName, AccessKeyId, Status, CreateDate
FROM aws.iam.access_keys
WHERE region = 'us-east-1'
