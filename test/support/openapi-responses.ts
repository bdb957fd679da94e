import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

interface Operation {
  responses: Record<
    string,
    { content?: Record<string, { schema: object }>; headers?: Record<string, { $ref: string }> }
  >;
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object>; headers?: Record<string, { required?: boolean }> };
}

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: unknown;
}

/**
 * Checks answers against what the document says of their route: the status is listed, with the content type sent;
 * the headers the document defines are listed where they are sent, and sent where they are required; and the body
 * fits its schema, closed: a member the schema does not name is an error too (it would be invisible to the typed
 * client). Returns what disagrees.
 */
export function responseContract(document: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ $id: 'openapi', components: { schemas: mapValues(document.components.schemas, closed) } });
  const validators = new Map<object, ValidateFunction>();
  return (method: string, path: string, answer: Answer): string[] => {
    const documented = document.paths[path]?.[method.toLowerCase()]?.responses[String(answer.status)];
    if (!documented) return [`${method} ${path}: ${answer.status} is not documented`];
    const headers = headerErrors(document, documented.headers ?? {}, answer).map(
      (error) => `${method} ${path} ${answer.status}: ${error}`,
    );
    return [...headers, ...bodyErrors(method, path, answer, documented)];
  };

  function bodyErrors(
    method: string,
    path: string,
    answer: Answer,
    documented: Operation['responses'][string],
  ): string[] {
    const type = answer.headers['content-type']?.split(';')[0];
    if (!type)
      return answer.status === 204 || !documented.content ? [] : [`${method} ${path}: no content type`];
    const media = documented.content?.[type];
    if (!media) return [`${method} ${path}: ${answer.status} is not documented as ${type}`];
    if (!type.endsWith('json')) return [];
    let validate = validators.get(media.schema);
    if (!validate) {
      const schema = JSON.parse(
        JSON.stringify(closed(media.schema)).replaceAll('"#/components/', '"openapi#/components/'),
      );
      validators.set(media.schema, (validate = ajv.compile(schema as object)));
    }
    if (validate(answer.body)) return [];
    return (validate.errors ?? []).map(
      (error) =>
        `${method} ${path} ${answer.status}: ${error.instancePath || '/'} ${error.message} ${JSON.stringify(error.params)}`,
    );
  }
}

/** The document's headers (components.headers) sent but not listed for the answer, or listed as required but absent. */
function headerErrors(
  document: OpenApiDocument,
  listed: Record<string, { $ref: string }>,
  answer: Answer,
): string[] {
  const defined = document.components.headers ?? {};
  const errors: string[] = [];
  for (const [name, { required }] of Object.entries(defined)) {
    const sent = answer.headers[name.toLowerCase()] !== undefined;
    if (sent && !listed[name]) errors.push(`sends ${name}, which the document does not list`);
    if (!sent && listed[name] && required) errors.push(`lacks ${name}, which the document requires`);
  }
  return errors;
}

/** The schema with `additionalProperties: false` wherever it lists properties and says nothing of others. */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (schema === null || typeof schema !== 'object') return schema;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    // `properties` maps names (any, "properties" included) to schemas; every other member is a schema or a list of them.
    copy[key] = key === 'properties' ? mapValues(value as Record<string, unknown>, closed) : closed(value);
  }
  if ('properties' in copy && !('additionalProperties' in copy)) copy.additionalProperties = false;
  return copy;
}

function mapValues<T, U>(record: Record<string, T>, map: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value)]));
}
