/**
 * The events of a made-up project-management product: what `npm run seed:events` writes and what the ingestion
 * benchmark sends. 26 everyday names with Zipf-like popularity, the steps of the sign-up-to-purchase funnel, and the
 * small JSON properties some of them carry.
 */
import type { Random } from './random.js';

/** The funnel every new user enters, in order; later steps come minutes to days after the first. */
export const FUNNEL = [
  'signup.started',
  'signup.completed',
  'project.created',
  'checkout.completed',
] as const;
/** What the app tracks itself when it provisions a user: no id, no properties. */
export const SIGNED_UP = 'user.signed_up';

/** Most used first: the k-th is used about 1/k^1.1 as often as the first. */
const EVERYDAY = [
  'page.viewed',
  'screen.viewed',
  'project.opened',
  'task.viewed',
  'search.performed',
  'task.created',
  'task.updated',
  'comment.added',
  'task.completed',
  'notification.opened',
  'file.uploaded',
  'project.updated',
  'filter.applied',
  'dashboard.viewed',
  'member.invited',
  'settings.updated',
  'export.started',
  'export.completed',
  'integration.connected',
  'project.created',
  'report.generated',
  'tag.added',
  'project.archived',
  'billing.viewed',
  'plan.upgraded',
  'feedback.submitted',
] as const;
const ZIPF_EXPONENT = 1.1;

const PATHS = [
  '/',
  '/projects',
  '/projects/:id',
  '/tasks',
  '/tasks/:id',
  '/inbox',
  '/reports',
  '/settings',
  '/billing',
];
const SCREENS = ['board', 'list', 'calendar', 'timeline', 'inbox', 'profile'];
const SOURCES = ['board', 'list', 'shortcut', 'api', 'email'];
const PLANS = [
  { plan: 'starter', amount: 9 },
  { plan: 'team', amount: 29 },
  { plan: 'business', amount: 99 },
];

/** Per name: how often it carries properties, and how to make them. */
const PROPERTIES: Record<string, { share: number; make: (random: Random) => object }> = {
  'page.viewed': {
    share: 1,
    make: (r) => ({ path: r.pick(PATHS), referrer: r.pick(['direct', 'search', 'email']) }),
  },
  'screen.viewed': { share: 1, make: (r) => ({ screen: r.pick(SCREENS) }) },
  'search.performed': { share: 0.9, make: (r) => ({ queryLength: 1 + r.below(40), results: r.below(200) }) },
  'task.created': { share: 0.7, make: (r) => ({ source: r.pick(SOURCES), hasDueDate: r.chance(0.4) }) },
  'task.updated': { share: 0.5, make: (r) => ({ field: r.pick(['status', 'assignee', 'due', 'title']) }) },
  'comment.added': { share: 0.5, make: (r) => ({ length: 1 + r.below(800), mentions: r.below(3) }) },
  'file.uploaded': {
    share: 0.9,
    make: (r) => ({ type: r.pick(['pdf', 'png', 'docx', 'csv']), bytes: 1_000 + r.below(5_000_000) }),
  },
  'filter.applied': { share: 0.8, make: (r) => ({ filter: r.pick(['mine', 'overdue', 'label', 'status']) }) },
  'export.started': { share: 1, make: (r) => ({ format: r.pick(['csv', 'xlsx', 'pdf']) }) },
  'integration.connected': { share: 1, make: (r) => ({ integration: r.pick(['slack', 'github', 'drive']) }) },
  'signup.started': { share: 1, make: (r) => ({ referrer: r.pick(['direct', 'search', 'ad', 'invite']) }) },
  'signup.completed': { share: 1, make: (r) => ({ method: r.pick(['email', 'google', 'github']) }) },
  'project.created': {
    share: 0.6,
    make: (r) => ({ template: r.pick(['blank', 'kanban', 'sprint', 'crm']) }),
  },
  'checkout.completed': {
    share: 1,
    make: (r) => ({ ...r.pick(PLANS), currency: 'EUR', annual: r.chance(0.3) }),
  },
  'plan.upgraded': { share: 1, make: (r) => ({ to: r.pick(PLANS).plan }) },
};
/** Distinct property objects made per name: enough variety for the data, made once so writing stays fast. */
const VARIANTS = 64;
const NAME_TABLE_BITS = 12;

export class EventCatalog {
  /** Indexes into EVERYDAY, spread in proportion to popularity: a uniform draw of an entry is a Zipf draw. */
  private readonly byPopularity: Uint8Array;
  private readonly variants = new Map<string, { share: number; json: string[] }>();

  constructor(random: Random) {
    const weights = EVERYDAY.map((_, rank) => 1 / (rank + 1) ** ZIPF_EXPONENT);
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    this.byPopularity = new Uint8Array(1 << NAME_TABLE_BITS);
    let index = 0;
    let cumulative = 0;
    for (let slot = 0; slot < this.byPopularity.length; slot++) {
      while ((slot + 0.5) / this.byPopularity.length > (cumulative + weights[index]!) / total) {
        cumulative += weights[index++]!;
      }
      this.byPopularity[slot] = index;
    }
    for (const [name, { share, make }] of Object.entries(PROPERTIES)) {
      this.variants.set(name, {
        share,
        json: Array.from({ length: VARIANTS }, () => JSON.stringify(make(random))),
      });
    }
  }

  /** How many names there are, the funnel's and SIGNED_UP included. */
  static get size(): number {
    return new Set([...EVERYDAY, ...FUNNEL, SIGNED_UP]).size;
  }

  /** An everyday event name, drawn by popularity. */
  everydayName(random: Random): string {
    return EVERYDAY[this.byPopularity[random.uint32() >>> (32 - NAME_TABLE_BITS)]!]!;
  }

  /** The properties of an event of this name as JSON text, or null when it has none this time. */
  propertiesJson(name: string, random: Random): string | null {
    const properties = this.variants.get(name);
    if (!properties || !random.chance(properties.share)) return null;
    return properties.json[random.below(VARIANTS)]!;
  }
}
