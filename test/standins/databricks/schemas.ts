// Request-body shapes the stand-in workspace enforces (from the Jobs 2.2 / Secrets / Lakebase
// request models). Unknown fields, missing required fields and wrong types are refused.
import { type TSchema, Type } from 'typebox'
import Value from 'typebox/value'

const closed = { additionalProperties: false } as const
const Loose = Type.Unknown()
const StringMap = Type.Record(Type.String(), Type.String())

/** Cluster spec fields (compute.ClusterSpec); only spark_env_vars is typed strictly. */
const ClusterSpec = Type.Object(
  {
    apply_policy_default_values: Type.Optional(Type.Boolean()),
    autoscale: Type.Optional(Loose),
    autotermination_minutes: Type.Optional(Type.Integer()),
    aws_attributes: Type.Optional(Loose),
    azure_attributes: Type.Optional(Loose),
    cluster_log_conf: Type.Optional(Loose),
    cluster_name: Type.Optional(Type.String()),
    custom_tags: Type.Optional(StringMap),
    data_security_mode: Type.Optional(Type.String()),
    docker_image: Type.Optional(Loose),
    driver_instance_pool_id: Type.Optional(Type.String()),
    driver_node_type_id: Type.Optional(Type.String()),
    enable_elastic_disk: Type.Optional(Type.Boolean()),
    enable_local_disk_encryption: Type.Optional(Type.Boolean()),
    gcp_attributes: Type.Optional(Loose),
    init_scripts: Type.Optional(Type.Array(Loose)),
    instance_pool_id: Type.Optional(Type.String()),
    is_single_node: Type.Optional(Type.Boolean()),
    kind: Type.Optional(Type.String()),
    node_type_id: Type.Optional(Type.String()),
    num_workers: Type.Optional(Type.Integer()),
    policy_id: Type.Optional(Type.String()),
    runtime_engine: Type.Optional(Type.String()),
    single_user_name: Type.Optional(Type.String()),
    spark_conf: Type.Optional(StringMap),
    spark_env_vars: Type.Optional(StringMap),
    spark_version: Type.Optional(Type.String()),
    ssh_public_keys: Type.Optional(Type.Array(Type.String())),
    use_ml_runtime: Type.Optional(Type.Boolean()),
    workload_type: Type.Optional(Loose),
  },
  closed,
)

export const Task = Type.Object(
  {
    task_key: Type.String({ minLength: 1, maxLength: 100 }),
    description: Type.Optional(Type.String()),
    depends_on: Type.Optional(
      Type.Array(Type.Object({ task_key: Type.String(), outcome: Type.Optional(Type.String()) }, closed)),
    ),
    run_if: Type.Optional(Type.String()),
    job_cluster_key: Type.Optional(Type.String()),
    existing_cluster_id: Type.Optional(Type.String()),
    new_cluster: Type.Optional(ClusterSpec),
    environment_key: Type.Optional(Type.String()),
    libraries: Type.Optional(Type.Array(Loose)),
    spark_python_task: Type.Optional(
      Type.Object(
        {
          python_file: Type.String({ minLength: 1 }),
          parameters: Type.Optional(Type.Array(Type.String())),
          source: Type.Optional(Type.Union([Type.Literal('WORKSPACE'), Type.Literal('GIT')])),
        },
        closed,
      ),
    ),
    notebook_task: Type.Optional(Loose),
    python_wheel_task: Type.Optional(Loose),
    spark_jar_task: Type.Optional(Loose),
    spark_submit_task: Type.Optional(Loose),
    sql_task: Type.Optional(Loose),
    dbt_task: Type.Optional(Loose),
    pipeline_task: Type.Optional(Loose),
    run_job_task: Type.Optional(Loose),
    condition_task: Type.Optional(Loose),
    // jobs.ForEachTask: inputs is a STRING (a JSON array or a reference); task is checked as a
    // task itself by task-rules.ts.
    for_each_task: Type.Optional(
      Type.Object(
        { inputs: Type.String(), concurrency: Type.Optional(Type.Integer()), task: Type.Object({}) },
        closed,
      ),
    ),
    max_retries: Type.Optional(Type.Integer()),
    min_retry_interval_millis: Type.Optional(Type.Integer()),
    retry_on_timeout: Type.Optional(Type.Boolean()),
    timeout_seconds: Type.Optional(Type.Integer()),
    email_notifications: Type.Optional(Loose),
    webhook_notifications: Type.Optional(Loose),
    notification_settings: Type.Optional(Loose),
    health: Type.Optional(Loose),
    disable_auto_optimization: Type.Optional(Type.Boolean()),
  },
  closed,
)

const jobSettingsFields = {
  name: Type.Optional(Type.String({ maxLength: 4096 })),
  description: Type.Optional(Type.String()),
  tasks: Type.Optional(Type.Array(Task, { maxItems: 1000 })),
  job_clusters: Type.Optional(
    Type.Array(
      Type.Object({ job_cluster_key: Type.String({ minLength: 1 }), new_cluster: ClusterSpec }, closed),
    ),
  ),
  environments: Type.Optional(Type.Array(Loose)),
  schedule: Type.Optional(
    Type.Object(
      {
        quartz_cron_expression: Type.String(),
        timezone_id: Type.String(),
        pause_status: Type.Optional(Type.Union([Type.Literal('PAUSED'), Type.Literal('UNPAUSED')])),
      },
      closed,
    ),
  ),
  trigger: Type.Optional(Loose),
  continuous: Type.Optional(Loose),
  parameters: Type.Optional(Type.Array(Type.Object({ name: Type.String(), default: Type.String() }, closed))),
  tags: Type.Optional(StringMap),
  max_concurrent_runs: Type.Optional(Type.Integer({ minimum: 0 })),
  timeout_seconds: Type.Optional(Type.Integer({ minimum: 0 })),
  queue: Type.Optional(Type.Object({ enabled: Type.Boolean() }, closed)),
  email_notifications: Type.Optional(Loose),
  webhook_notifications: Type.Optional(Loose),
  notification_settings: Type.Optional(Loose),
  health: Type.Optional(Loose),
  git_source: Type.Optional(Loose),
  run_as: Type.Optional(Loose),
  format: Type.Optional(Type.String()),
  deployment: Type.Optional(Loose),
  edit_mode: Type.Optional(Type.String()),
  budget_policy_id: Type.Optional(Type.String()),
  performance_target: Type.Optional(Type.String()),
}

export const JobSettings = Type.Object(jobSettingsFields, closed)
export const CreateJob = Type.Object(
  { ...jobSettingsFields, access_control_list: Type.Optional(Loose) },
  closed,
)
const JobId = Type.Integer({ minimum: 1 })
export const ResetJob = Type.Object({ job_id: JobId, new_settings: JobSettings }, closed)
export const UpdateJob = Type.Object(
  {
    job_id: JobId,
    new_settings: Type.Optional(Type.Object(jobSettingsFields, closed)),
    fields_to_remove: Type.Optional(Type.Array(Type.String())),
  },
  closed,
)
export const DeleteJob = Type.Object({ job_id: JobId }, closed)
export const RunNow = Type.Object(
  {
    job_id: JobId,
    idempotency_token: Type.Optional(Type.String({ maxLength: 64 })),
    job_parameters: Type.Optional(StringMap),
    queue: Type.Optional(Loose),
    performance_target: Type.Optional(Type.String()),
    only: Type.Optional(Type.Array(Type.String())),
    python_params: Type.Optional(Type.Array(Type.String())),
  },
  closed,
)
export const PostgresCredential = Type.Object(
  {
    endpoint: Type.String({ pattern: '^projects/[^/]+/branches/[^/]+/endpoints/[^/]+$' }),
    claims: Type.Optional(Loose),
  },
  closed,
)
export const DatabaseCredential = Type.Object(
  {
    instance_names: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    request_id: Type.String({ minLength: 1 }),
    claims: Type.Optional(Loose),
  },
  closed,
)

/** The first problem with `value`, worded like a Databricks INVALID_PARAMETER_VALUE message, or null. */
export function firstProblem(schema: TSchema, value: unknown): string | null {
  for (const e of Value.Errors(schema, value)) {
    const at = e.instancePath || '/'
    const params = e.params as { additionalProperties?: string[]; requiredProperties?: string[] }
    if (e.keyword === 'boolean') continue
    if (e.keyword === 'additionalProperties') {
      return `Unknown field(s) ${params.additionalProperties?.map((f) => `'${f}'`).join(', ')} at ${at}`
    }
    if (e.keyword === 'required') {
      return `Missing required field(s) ${params.requiredProperties?.map((f) => `'${f}'`).join(', ')} at ${at}`
    }
    return `Invalid value at ${at}: ${e.message}`
  }
  return null
}

/** Quartz rules the Jobs API checks: 6 or 7 fields, exactly one of day-of-month/day-of-week is '?'. */
export function quartzProblem(expr: string): string | null {
  const f = expr.trim().split(/\s+/)
  if (f.length !== 6 && f.length !== 7)
    return `Invalid Quartz Cron Expression: ${expr} (expected 6 or 7 fields)`
  if ((f[3] === '?') === (f[5] === '?')) {
    return `Invalid Quartz Cron Expression: ${expr} (Support for specifying both a day-of-week AND a day-of-month parameter is not implemented.)`
  }
  const dowNumbers = (f[5] ?? '').match(/\d+/g) ?? []
  const stepped = /\//.test(f[5] ?? '')
  if (!stepped && dowNumbers.some((n) => Number(n) < 1 || Number(n) > 7)) {
    return `Invalid Quartz Cron Expression: ${expr} (Day-of-Week values must be between 1 and 7)`
  }
  return null
}
