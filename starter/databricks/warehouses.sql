-- ---
-- name: Databricks SQL warehouses
-- description: SQL warehouses of a workspace: size, type, serverless, auto-stop and state.
-- provider: databricks_workspace
-- provider_version: registry source databricks_workspace/v00.00.00000 at commit 2f6fff53
-- resource: databricks_workspace.sql.warehouses
-- cron: 0 6 * * *
-- table: databricks_warehouses
-- keys: id
-- variables: deployment_name
-- ---
SELECT id, name, cluster_size, warehouse_type, enable_serverless_compute, auto_stop_mins, min_num_clusters, max_num_clusters, state, creator_name
FROM databricks_workspace.sql.warehouses
WHERE deployment_name = {{ deployment_name }}
