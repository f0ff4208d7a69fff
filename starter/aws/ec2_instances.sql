-- ---
-- name: AWS EC2 instances across regions
-- description: Every EC2 instance in the listed regions: type, state, private IP, launch time.
-- provider: aws
-- provider_version: stand-in fixture (the registry snapshot read lacks this service file; columns NOT verified)
-- resource: aws.ec2.instances
-- cron: 0 */6 * * *
-- table: aws_ec2_instances
-- keys: instance_id
-- variables: regions
-- ---
SELECT instance_id, instance_type, state, private_ip_address, launch_time, region
FROM aws.ec2.instances
WHERE region IN ({{ regions }})
