/**
 * The spellings of a resource name, singular and plural: `purchase order` → PurchaseOrder, purchaseOrders,
 * purchase-orders, purchase_orders, PURCHASE_ORDERS, "purchase orders".
 */
export interface Spellings {
  pascal: string;
  camel: string;
  kebab: string;
  snake: string;
  upper: string;
  words: string;
  sentence: string;
}

export interface ResourceNames {
  singular: Spellings;
  plural: Spellings;
}

/** `purchase-order`, `purchaseOrder`, `purchase_order` or `Purchase order` → its words, lower case. */
export function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .filter(Boolean)
    .map((word) => word.toLowerCase());
}

/** English plural of the last word, for the common cases; pass the plural yourself for the rest. */
export function pluralOf(word: string): string {
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(word)) return `${word}es`;
  return `${word}s`;
}

function spell(words: string[]): Spellings {
  const capitalized = words.map((word) => word[0]!.toUpperCase() + word.slice(1));
  return {
    pascal: capitalized.join(''),
    camel: words[0]! + capitalized.slice(1).join(''),
    kebab: words.join('-'),
    snake: words.join('_'),
    upper: words.join('_').toUpperCase(),
    words: words.join(' '),
    sentence: [capitalized[0], ...words.slice(1)].join(' '),
  };
}

/** `invoices` → `invoice`, for a name that reads as a plural (`status`, `address`, `analysis` do not); else undefined. */
function singularOf(word: string): string | undefined {
  if (!/s$/.test(word) || /(ss|us|is)$/.test(word)) return undefined;
  if (/[^aeiou]ies$/.test(word)) return `${word.slice(0, -3)}y`;
  if (/(s|x|z|ch|sh)es$/.test(word)) return word.slice(0, -2);
  return word.slice(0, -1);
}

export function resourceNames(name: string, plural?: string): ResourceNames {
  const singular = checkedWords(name, 'resource name');
  const singularWord = plural ? undefined : singularOf(singular.at(-1)!);
  if (singularWord) {
    throw new Error(
      `"${name}" reads as a plural: name the resource in the singular (${[...singular.slice(0, -1), singularWord].join('-')}), or give --plural to keep it`,
    );
  }
  const pluralWords = plural
    ? checkedWords(plural, 'plural')
    : [...singular.slice(0, -1), pluralOf(singular.at(-1)!)];
  return { singular: spell(singular), plural: spell(pluralWords) };
}

function checkedWords(name: string, what: string): string[] {
  const words = wordsOf(name);
  if (words.length === 0 || !words.every((word) => /^[a-z][a-z0-9]*$/.test(word))) {
    throw new Error(`"${name}" is not a ${what}: use letters and digits, e.g. invoice or purchase-order`);
  }
  return words;
}
