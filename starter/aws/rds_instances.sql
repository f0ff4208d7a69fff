-- ---
-- name: AWS RDS DB instances
-- description: RDS instances: class, engine and version, status, storage, Multi-AZ, public access and encryption.
-- provider: aws
-- provider_version: registry source aws/v00.00.00000 at commit 2f6fff53
-- resource: aws.rds.db_instances
-- cron: 0 6 * * *
-- table: aws_rds_instances
-- keys: DBInstanceArn
-- variables: regions
-- ---
SELECT DBInstanceIdentifier, DBInstanceArn, DBInstanceClass, Engine, EngineVersion, DBInstanceStatus, AllocatedStorage, MultiAZ, PubliclyAccessible, StorageEncrypted, InstanceCreateTime
FROM aws.rds.db_instances
WHERE region IN ({{ regions }})
