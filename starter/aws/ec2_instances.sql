-- ---
-- name: AWS EC2 instances across regions
-- description: Every EC2 instance in the listed regions: type, state, private IP, launch time, VPC and tags.
-- provider: aws
-- provider_version: provider docs aws/v00.00.00000 at stackql-provider-aws commit 1726839 (the registry snapshot lacks ec2.yaml)
-- resource: aws.ec2.instances
-- cron: 0 */6 * * *
-- table: aws_ec2_instances
-- keys: InstanceId
-- variables: regions
-- ---
SELECT InstanceId, InstanceType, State, PrivateIpAddress, LaunchTime, VpcId, Tags
FROM aws.ec2.instances
WHERE region IN ({{ regions }})
