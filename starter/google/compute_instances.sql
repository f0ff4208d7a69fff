-- ---
-- name: Google Compute Engine instances
-- description: VM instances of a project in a zone with their status and machine type.
-- provider: google
-- provider_version: stand-in fixture (the registry snapshot read lacks this service file; columns NOT verified)
-- resource: google.compute.instances
-- cron: 0 */6 * * *
-- table: google_compute_instances
-- keys: name
-- variables: project, zone
-- ---
SELECT name, status, machineType, zone
FROM google.compute.instances
WHERE project = {{ project }}
AND zone = {{ zone }}
