// Schedules: `fastify.schedules` keeps each schedule's row and its Databricks job together.
// Without a workspace, "Run now" starts the local runner as a child process instead.
import fp from 'fastify-plugin'
import type { Schedule } from '../../src/models.js'
import { ScheduleService } from '../../src/services/schedule-service.js'

declare module 'fastify' {
  interface FastifyInstance {
    schedules: ScheduleService
  }
}

export interface SchedulesPluginOptions {
  /** "Run now" without a workspace; supplied by the web app (the runner CLI does not need it). */
  launchLocalRun?: (schedule: Schedule) => Promise<{ message: string }>
}

export default fp(
  async (app, opts: SchedulesPluginOptions) => {
    app.decorate(
      'schedules',
      new ScheduleService({
        db: app.db,
        jobs: app.jobs,
        launchLocalRun: opts.launchLocalRun,
        timezone: app.config.jobTimezone,
      }),
    )
  },
  { fastify: '5.x', name: 'schedules', dependencies: ['config', 'db', 'databricks'] },
)
