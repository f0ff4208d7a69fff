-- ---
-- name: Databricks workspaces
-- description: Workspaces of a Databricks account: cloud, region, pricing tier and status.
-- provider: databricks_account
-- provider_version: registry source databricks_account/v00.00.00000 at commit 2f6fff53
-- resource: databricks_account.provisioning.workspaces
-- cron: 0 6 * * *
-- table: databricks_workspaces
-- keys: workspace_id
-- variables: account_id
-- ---
SELECT workspace_id, workspace_name, deployment_name, cloud, aws_region, location, pricing_tier, workspace_status, creation_time
FROM databricks_account.provisioning.workspaces
WHERE account_id = {{ account_id }}
