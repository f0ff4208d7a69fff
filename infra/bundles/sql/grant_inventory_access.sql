-- Read access to the Lakebase database registered in Unity Catalog, for the dashboards' group.
-- Parameters (sql_task.parameters): catalog, readers_group. Catalog-level USE SCHEMA and SELECT
-- are inherited by every schema and table in it, including tables created by later runs.
EXECUTE IMMEDIATE 'GRANT USE CATALOG, USE SCHEMA, SELECT ON CATALOG `' || :catalog || '` TO `' || :readers_group || '`';
