-- ---
-- name: Databricks jobs
-- description: Jobs of a workspace with their creator, run-as user and creation time.
-- provider: databricks_workspace
-- provider_version: registry source databricks_workspace/v00.00.00000 at commit 2f6fff53
-- resource: databricks_workspace.jobs.jobs
-- cron: 0 6 * * *
-- table: databricks_jobs
-- keys: job_id
-- variables: deployment_name
-- ---
SELECT job_id, creator_user_name, created_time, path, settings
FROM databricks_workspace.jobs.jobs
WHERE deployment_name = {{ deployment_name }}
