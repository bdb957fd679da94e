/**
 * The benchmark baseline: bare Fastify + pg doing the same database work as the Runway endpoint it is compared
 * with, and nothing else (no Nest, no logging, no validation, no auth). Run by bench/run.ts.
 */
import Fastify from 'fastify';
import { referenceRoutes } from './reference-routes.js';

const routes = referenceRoutes(process.env);
const app = Fastify({ logger: false });

app.get('/health/ready', () => routes.ready());
app.get('/v1/me', () => routes.me());
app.get<{ Params: { id: string } }>('/v1/projects/:id', (request) => routes.project(request.params.id));
app.post<{ Body: { name: string } }>('/v1/projects', async (request, reply) =>
  reply.code(201).send(await routes.createProject(request.body.name)),
);
app.post<{ Body: { events: unknown[] } }>('/v1/events', { bodyLimit: 1 << 20 }, async (request, reply) =>
  reply.code(202).send(await routes.storeEvents(request.body.events)),
);

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.once('SIGTERM', () => {
  void app
    .close()
    .then(() => routes.pool.end())
    .then(() => process.exit(0));
});
