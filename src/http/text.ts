import { Transform } from 'class-transformer';
import { ValidateBy } from 'class-validator';

/**
 * Text of `min` to `max` characters, counted as PostgreSQL counts them in a `varchar(n)`: in code points, so an
 * emoji made of several (❤️ is two) counts as several, and what passes here always fits the column.
 */
export const TextLength = (min: number, max: number) =>
  ValidateBy({
    name: 'textLength',
    validator: {
      validate: (value: unknown) => {
        if (typeof value !== 'string') return false;
        const length = [...value].length;
        return length >= min && length <= max;
      },
      defaultMessage: (args) =>
        min > 0
          ? `${args?.property} must be between ${min} and ${max} characters long`
          : `${args?.property} must be at most ${max} characters long`,
    },
  });

/**
 * White space and characters that show nothing and mean nothing at an edge (soft hyphen, zero-width space and joiners,
 * word joiner, byte order mark), so that `Alpha` and `Alpha` + U+200B are not two names that read the same. Marks of
 * right-to-left text and the variation selector that ends an emoji (❤️) mean something there, and stay.
 */
const EDGE = /[\s\u00AD\u180E\u200B-\u200D\u2060\uFEFF]/;

/** Walks in from both ends: a pattern anchored at the end (`[…]+$`) is quadratic on long runs of spaces inside. */
function trimEdges(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && EDGE.test(text[start]!)) start++;
  while (end > start && EDGE.test(text[end - 1]!)) end--;
  return text.slice(start, end);
}

/**
 * Surrounding white space and invisible characters are dropped before validation, and the text put in Unicode's
 * composed form (NFC): é typed as one code point or as e and a combining accent is then one name, as a reader sees it.
 */
export const TrimmedText = () =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? trimEdges(value).normalize('NFC') : value,
  );

/** C0 and C1 control characters but tab, line feed and carriage return. */
const CONTROLS = /[^\P{Cc}\t\n\r]/u;
const ALL_CONTROLS = new RegExp(CONTROLS.source, 'gu');
/** Line breaks as a form sends them (CRLF) or old Macs wrote them (CR), as line feeds. */
export const lineFeeds = (text: string): string => text.replace(/\r\n?/g, '\n');
/** The text without the control characters a text of several lines may not hold. */
export const withoutControls = (text: string): string => text.replace(ALL_CONTROLS, '');

/**
 * Controls of any kind, line and paragraph separators, and the overrides that reverse the order of characters (which
 * make one name read as another: `invoice\u202Efdp.exe`). Embeddings and isolates, which right-to-left text
 * copied from some editors carries, stay.
 */
const NOT_ONE_LINE = /[\p{Cc}\u2028\u2029\u202D\u202E]/u;
/**
 * Anything but white space, characters that render as nothing (zero-width space, joiners, fillers, variation
 * selectors), formatting characters, the braille blank, and combining marks, which need a character to sit on.
 */
const VISIBLE = /[^\p{White_Space}\p{Default_Ignorable_Code_Point}\p{Cf}\p{M}\u2800]/u;

function plainTextProblem(text: string, lines: boolean): string | undefined {
  if (lines) return CONTROLS.test(text) ? 'must not contain control characters' : undefined;
  if (NOT_ONE_LINE.test(text)) return 'must be one line of text without control characters';
  if (text !== '' && !VISIBLE.test(text)) return 'must contain a visible character';
  return undefined;
}

/**
 * Text as people write it: one line of visible text (a name, a title), or with `lines` any number of lines (a
 * description). Control characters, which terminals, logs and emails would act on, are refused either way.
 */
export const PlainText = ({ lines = false } = {}) =>
  ValidateBy({
    name: 'plainText',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || !plainTextProblem(value, lines),
      defaultMessage: (args) => `${args?.property} ${plainTextProblem(String(args?.value), lines)}`,
    },
  });
