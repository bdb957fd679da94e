import { describe, expect, it } from 'vitest';
import { pluralOf, resourceNames } from '../../tools/generator/names.js';
import { plannedFiles, refusal } from '../../tools/generator/new-resource.js';
import { renamePath, renameSource } from '../../tools/generator/rename.js';

/** The resource generator's renaming (CI also generates a resource into a scratch copy and runs its tests). */
describe('npm run new:resource', () => {
  const from = resourceNames('project');
  const to = resourceNames('purchase-order');

  it('spells a name in every case the code needs', () => {
    expect(to.plural).toEqual({
      pascal: 'PurchaseOrders',
      camel: 'purchaseOrders',
      kebab: 'purchase-orders',
      snake: 'purchase_orders',
      upper: 'PURCHASE_ORDERS',
      words: 'purchase orders',
      sentence: 'Purchase orders',
    });
    expect(resourceNames('PurchaseOrder').singular.kebab).toBe('purchase-order');
    expect(['category', 'box', 'key', 'invoice'].map(pluralOf)).toEqual([
      'categories',
      'boxes',
      'keys',
      'invoices',
    ]);
    expect(resourceNames('person', 'people').plural.pascal).toBe('People');
    expect(() => resourceNames('9lives')).toThrow(/not a resource name/);
  });

  it.each([
    ['export class ProjectsService {}', 'export class PurchaseOrdersService {}'],
    ['const PROJECT_STATUSES = [];', 'const PURCHASE_ORDER_STATUSES = [];'],
    ['createProject(project.id)', 'createPurchaseOrder(purchaseOrder.id)'],
    [
      "const DUPLICATES = { uq_projects_owner_name: 'x' };",
      "const DUPLICATES = { uq_purchase_orders_owner_name: 'x' };",
    ],
    ["@Entity({ name: 'projects' })", "@Entity({ name: 'purchase_orders' })"],
    ["@Controller('v1/projects')", "@Controller('v1/purchase-orders')"],
    ["import { X } from './projects.service.js';", "import { X } from './purchase-orders.service.js';"],
    ['sql`SELECT * FROM projects WHERE id = ${id}`', 'sql`SELECT * FROM purchase_orders WHERE id = ${id}`'],
    [
      "counter('runway.projects.created', 'Projects created', '{project}')",
      "counter('runway.purchase_orders.created', 'Purchase orders created', '{purchase_order}')",
    ],
    ["analytics.track(ownerId, 'project.created')", "analytics.track(ownerId, 'purchase_order.created')"],
    [
      "notFound('project'); // A project, then another project.",
      "notFound('purchase order'); // A purchase order, then another purchase order.",
    ],
    [
      "it('creates a project', () => x / 2 / project.n);",
      "it('creates a purchase order', () => x / 2 / purchaseOrder.n);",
    ],
    [
      'const a = `/v1/projects/${project.id}?q=${"a project"}`;',
      'const a = `/v1/purchase-orders/${purchaseOrder.id}?q=${"a purchase order"}`;',
    ],
  ])('%s', (source, expected) => {
    expect(renameSource(source, from, to)).toBe(expected);
  });

  it('fixes the article in prose', () => {
    expect(renameSource("'a project'", from, resourceNames('invoice'))).toBe("'an invoice'");
  });

  it.each([
    ['class', undefined, /"class" is a reserved word/],
    ['event', undefined, /\/v1\/events is a route of the app already/],
    ['user', undefined, /the table users exists already/],
    ['migration', undefined, /the table migrations exists already/],
    ['analytics-daily-count', undefined, /the table analytics_daily_counts exists already/],
    ['analytics-event-count', undefined, /the table analytics_event_counts exists already/],
    ['count', undefined, undefined],
    // Columns of the migrations (analytics_events.properties, audit_log.details), not tables.
    ['property', undefined, undefined],
    ['detail', undefined, undefined],
    ['util', undefined, /already exists: src\/utils/],
    ['thing', 'http', /already exists: src\/http/],
    ['invoice', undefined, undefined],
    ['person', 'people', undefined],
    ['customer-warehouse-inventory-adjustment-request-line', undefined, /too long for the index/],
    [`a${'-b'.repeat(28)}`, 'items', /too long for the event/],
  ])('refuses names the app cannot take, before writing anything: %s', (name, plural, reason) => {
    const refused = refusal(resourceNames(name, plural));
    if (reason) expect(refused).toMatch(reason);
    else expect(refused).toBeUndefined();
  });

  it('refuses a name that reads as a plural (invoices would make /v1/invoiceses), unless --plural is given', () => {
    expect(() => resourceNames('invoices')).toThrow(/name the resource in the singular \(invoice\)/);
    expect(() => resourceNames('purchase-orders')).toThrow(/\(purchase-order\)/);
    expect(() => resourceNames('categories')).toThrow(/\(category\)/);
    expect(resourceNames('status').plural.kebab).toBe('statuses');
    expect(resourceNames('alias', 'aliases').plural.kebab).toBe('aliases');
  });

  it('takes a plural made of words only: no path of its own', () => {
    expect(() => resourceNames('thing', '../outside')).toThrow(/"..\/outside" is not a plural/);
  });

  it('writes the reference resource and its tests under the new name', () => {
    expect(
      plannedFiles(to)
        .map(([, target]) => target)
        .sort(),
    ).toEqual([
      'src/purchase-orders/purchase-order.entity.ts',
      'src/purchase-orders/purchase-orders.controller.ts',
      'src/purchase-orders/purchase-orders.dto.ts',
      'src/purchase-orders/purchase-orders.module.ts',
      'src/purchase-orders/purchase-orders.repository.ts',
      'src/purchase-orders/purchase-orders.service.ts',
      'test/api/purchase-orders.spec.ts',
    ]);
    expect(renamePath('project.entity.ts', from, to)).toBe('purchase-order.entity.ts');
  });
});
