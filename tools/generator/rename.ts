import ts from 'typescript';
import type { ResourceNames, Spellings } from './names.js';

/**
 * Renames a resource in TypeScript source, token by token, so each occurrence gets the spelling its place needs:
 * identifiers `ProjectsService`/`createProject`/`PROJECT_STATUSES` (Pascal, camel, upper); in strings and comments,
 * paths `/v1/projects` (kebab), SQL, constraint and metric names `uq_projects_owner_name` (snake), and prose
 * "a project" (words, with the article fixed).
 */
export function renameSource(text: string, from: ResourceNames, to: ResourceNames): string {
  let out = '';
  let previous: string[] = [];
  for (const { kind, text: token } of tokens(text)) {
    if (isText(kind)) {
      // `name: 'projects'` names a table: snake case, like SQL.
      out += renameInText(token, from, to, previous.join('') === 'name:');
    } else {
      out += kind === ts.SyntaxKind.Identifier ? renameIdentifier(token, from, to) : token;
    }
    if (!TRIVIA.has(kind)) previous = [...previous, token].slice(-2);
  }
  return out;
}

/** A file name: `projects.service.ts` → `purchase-orders.service.ts`. */
export function renamePath(path: string, from: ResourceNames, to: ResourceNames): string {
  return path.replace(new RegExp(`\\b(${from.plural.kebab}|${from.singular.kebab})\\b`, 'g'), (name) =>
    name === from.plural.kebab ? to.plural.kebab : to.singular.kebab,
  );
}

type Form = keyof Spellings;

function renameIdentifier(identifier: string, from: ResourceNames, to: ResourceNames): string {
  // `uq_projects_owner_name` as an object key is a constraint name: snake case.
  return replaceForms(identifier, from, to, ['pascal', 'upper', 'camel'], (form, before, after) =>
    form === 'camel' && (before === '_' || after.startsWith('_')) ? 'snake' : form,
  );
}

function renameInText(text: string, from: ResourceNames, to: ResourceNames, tableName: boolean): string {
  const sql = tableName || /\b(SELECT|INSERT|UPDATE|DELETE|FROM|WHERE|JOIN)\b/.test(text);
  let out = replaceForms(text, from, to, ['pascal', 'camel'], (form, before, after) => {
    if (form === 'pascal') return /^[A-Z]/.test(after) ? 'pascal' : 'sentence';
    const path = /^(\/|\.(entity|controller|service|repository|dto|module|spec)\b)/.test(after);
    if (before === '/' || path) return 'kebab';
    const snake =
      sql ||
      before === '_' ||
      after.startsWith('_') ||
      (before === '{' && after.startsWith('}')) ||
      (before === '.' && after.startsWith('.')) ||
      // an analytics event name: 'project.created'
      /^\.[a-z_]+['"`]/.test(after);
    return snake ? 'snake' : 'words';
  });
  // "a project" → "an invoice"
  out = out.replace(/\b([Aa])n? (?=[a-z])/g, (article, letter: string, offset: number) => {
    const next = out.slice(offset + article.length);
    const renamed = [to.singular.words, to.plural.words].some((words) => next.startsWith(words));
    if (!renamed) return article;
    return /^[aeio]/.test(next) ? `${letter}n ` : `${letter} `;
  });
  return out;
}

/**
 * Replaces every spelling of `from` (plural first) in the given forms; `pick` chooses the target form from the
 * characters around the match.
 */
function replaceForms(
  text: string,
  from: ResourceNames,
  to: ResourceNames,
  forms: Form[],
  pick: (form: Form, before: string, after: string) => Form,
): string {
  const candidates = forms.flatMap((form) => [
    { spelling: from.plural[form], form, plural: true },
    { spelling: from.singular[form], form, plural: false },
  ]);
  const pattern = new RegExp(candidates.map(({ spelling }) => `${spelling}(?![a-z])`).join('|'), 'g');
  return text.replace(pattern, (match, offset: number) => {
    const { form, plural } = candidates.find(({ spelling }) => spelling === match)!;
    const target = pick(form, text[offset - 1] ?? '', text.slice(offset + match.length));
    return (plural ? to.plural : to.singular)[target];
  });
}

const TEXT_KINDS = new Set([
  ts.SyntaxKind.StringLiteral,
  ts.SyntaxKind.NoSubstitutionTemplateLiteral,
  ts.SyntaxKind.TemplateHead,
  ts.SyntaxKind.TemplateMiddle,
  ts.SyntaxKind.TemplateTail,
  ts.SyntaxKind.SingleLineCommentTrivia,
  ts.SyntaxKind.MultiLineCommentTrivia,
]);
const isText = (kind: ts.SyntaxKind) => TEXT_KINDS.has(kind);

const TRIVIA = new Set([
  ts.SyntaxKind.WhitespaceTrivia,
  ts.SyntaxKind.NewLineTrivia,
  ts.SyntaxKind.SingleLineCommentTrivia,
  ts.SyntaxKind.MultiLineCommentTrivia,
  ts.SyntaxKind.ShebangTrivia,
  ts.SyntaxKind.ConflictMarkerTrivia,
]);

/** After these, a `/` starts a regular expression rather than a division. */
const ENDS_OPERAND = new Set([
  ts.SyntaxKind.Identifier,
  ts.SyntaxKind.CloseParenToken,
  ts.SyntaxKind.CloseBracketToken,
  ts.SyntaxKind.NumericLiteral,
  ts.SyntaxKind.StringLiteral,
  ts.SyntaxKind.NoSubstitutionTemplateLiteral,
  ts.SyntaxKind.TemplateTail,
]);

/** Every token of the source, trivia (comments, white space) included, templates and regular expressions whole. */
function tokens(text: string): { kind: ts.SyntaxKind; text: string }[] {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, text);
  const result: { kind: ts.SyntaxKind; text: string }[] = [];
  /** Brace depth inside each open template expression. */
  const templates: number[] = [];
  let previous = ts.SyntaxKind.Unknown;
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    if (kind === ts.SyntaxKind.CloseBraceToken && templates.at(-1) === 0) {
      kind = scanner.reScanTemplateToken(false);
      if (kind === ts.SyntaxKind.TemplateTail) templates.pop();
    } else if (kind === ts.SyntaxKind.OpenBraceToken && templates.length > 0) {
      templates[templates.length - 1]!++;
    } else if (kind === ts.SyntaxKind.CloseBraceToken && templates.length > 0) {
      templates[templates.length - 1]!--;
    } else if (
      (kind === ts.SyntaxKind.SlashToken || kind === ts.SyntaxKind.SlashEqualsToken) &&
      !ENDS_OPERAND.has(previous)
    ) {
      kind = scanner.reScanSlashToken();
    }
    if (kind === ts.SyntaxKind.TemplateHead) templates.push(0);
    result.push({ kind, text: scanner.getTokenText() });
    if (!TRIVIA.has(kind)) previous = kind;
  }
  return result;
}
