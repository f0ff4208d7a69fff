-- ---
-- name: AWS Lambda functions
-- description: Lambda functions per region: runtime, memory, timeout, state, last change.
-- provider: aws
-- provider_version: registry source aws/v00.00.00000 at commit 2f6fff53
-- resource: aws.lambda.functions
-- cron: 0 6 * * *
-- table: aws_lambda_functions
-- keys: FunctionArn
-- variables: regions
-- ---
SELECT FunctionName, FunctionArn, Runtime, MemorySize, Timeout, State, PackageType, LastModified
FROM aws.lambda.functions
WHERE region IN ({{ regions }})
