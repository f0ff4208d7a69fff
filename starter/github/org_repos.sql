-- ---
-- name: GitHub organisation repositories
-- description: Repositories of an organisation: visibility, default branch, archived, language, stars, last push.
-- provider: github
-- provider_version: registry source github/v00.00.00000 at commit 2f6fff53
-- resource: github.repos.repos
-- cron: 0 6 * * *
-- table: github_repos
-- keys: id
-- variables: org
-- ---
SELECT id, name, full_name, visibility, private, archived, default_branch, language, stargazers_count, pushed_at
FROM github.repos.repos
WHERE org = {{ org }}
