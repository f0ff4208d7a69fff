-- ---
-- name: AWS S3 buckets
-- description: All S3 buckets of the account with their region and creation date.
-- provider: aws
-- provider_version: registry source aws/v00.00.00000 at commit 2f6fff53
-- resource: aws.s3.buckets
-- cron: 0 6 * * *
-- table: aws_s3_buckets
-- keys: Name
-- variables: region
-- ---
SELECT Name, BucketRegion, BucketArn, CreationDate
FROM aws.s3.buckets
WHERE region = {{ region }}
