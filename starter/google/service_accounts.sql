-- ---
-- name: Google IAM service accounts
-- description: Service accounts of a project, with their e-mail and whether they are disabled.
-- provider: google
-- provider_version: registry source googleapis.com/v00.00.00000 at commit 2f6fff53
-- resource: google.iam.service_accounts
-- cron: 0 6 * * *
-- table: google_service_accounts
-- keys: uniqueId
-- variables: project
-- ---
SELECT uniqueId, email, displayName, description, disabled, projectId
FROM google.iam.service_accounts
WHERE projectsId = {{ project }}
