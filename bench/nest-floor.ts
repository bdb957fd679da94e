/**
 * The framework's floor: NestJS on Fastify with one controller doing the same database work as the baseline, and
 * nothing else (no guards, pipes, interceptors, logging, validation or auth). Set against the baseline, it is what
 * Nest's request pipeline and start cost before any of Runway's own work. Run by bench/run.ts.
 */
import 'reflect-metadata';
import { Body, Controller, Get, HttpCode, Module, Param, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { referenceRoutes } from './reference-routes.js';

const routes = referenceRoutes(process.env);

@Controller()
class ReferenceController {
  @Get('health/ready')
  ready() {
    return routes.ready();
  }

  @Get('v1/me')
  me() {
    return routes.me();
  }

  @Get('v1/projects/:id')
  project(@Param('id') id: string) {
    return routes.project(id);
  }

  @Post('v1/projects')
  createProject(@Body() body: { name: string }) {
    return routes.createProject(body.name);
  }

  @Post('v1/events')
  @HttpCode(202)
  storeEvents(@Body() body: { events: unknown[] }) {
    return routes.storeEvents(body.events);
  }
}

@Module({ controllers: [ReferenceController] })
class ReferenceModule {}

const app = await NestFactory.create<NestFastifyApplication>(
  ReferenceModule,
  new FastifyAdapter({ bodyLimit: 1 << 20 }),
  { logger: false },
);
await app.listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => {
  void app
    .close()
    .then(() => routes.pool.end())
    .then(() => process.exit(0));
});
