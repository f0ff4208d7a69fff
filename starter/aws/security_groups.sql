-- ---
-- name: AWS security groups and their ingress rules
-- description: Security groups with their inbound rules; filter security_group_ingress for CidrIp 0.0.0.0/0 to find groups open to the world.
-- provider: awscc
-- provider_version: registry source awscc/v00.00.00000 at commit 2f6fff53
-- resource: awscc.ec2.security_groups
-- cron: 0 */6 * * *
-- table: aws_security_groups
-- keys: group_id
-- variables: regions, security_group_ids
-- ---
SELECT group_id, group_name, vpc_id, group_description, security_group_ingress, region
FROM awscc.ec2.security_groups
WHERE region IN ({{ regions }})
AND Identifier IN ({{ security_group_ids }})
