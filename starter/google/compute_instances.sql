-- ---
-- name: Google Compute Engine instances
-- description: VM instances of a project in a zone with their status, machine type and creation time.
-- provider: google
-- provider_version: provider docs googleapis.com/v00.00.00000 at stackql-provider-google commit ea49a23 (the registry snapshot lacks compute.yaml)
-- resource: google.compute.instances
-- cron: 0 */6 * * *
-- table: google_compute_instances
-- keys: id
-- variables: project, zone
-- ---
SELECT id, name, status, machineType, zone, creationTimestamp
FROM google.compute.instances
WHERE project = {{ project }}
AND zone = {{ zone }}
