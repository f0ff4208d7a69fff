-- ---
-- name: GitHub organisation members
-- description: Members of an organisation with their login, type and whether they are site admins.
-- provider: github
-- provider_version: registry source github/v00.00.00000 at commit 2f6fff53
-- resource: github.orgs.members
-- cron: 0 6 * * *
-- table: github_org_members
-- keys: id
-- variables: org
-- ---
SELECT id, login, type, site_admin, html_url
FROM github.orgs.members
WHERE org = {{ org }}
