-- ---
-- name: Databricks clusters
-- description: Clusters of a workspace: creator, source, runtime, node type, state.
-- provider: databricks_workspace
-- provider_version: registry source databricks_workspace/v00.00.00000 at commit 2f6fff53
-- resource: databricks_workspace.compute.clusters
-- cron: 0 */6 * * *
-- table: databricks_clusters
-- keys: cluster_id
-- variables: deployment_name
-- ---
SELECT cluster_id, cluster_name, creator_user_name, cluster_source, spark_version, node_type_id, state, autotermination_minutes
FROM databricks_workspace.compute.clusters
WHERE deployment_name = {{ deployment_name }}
