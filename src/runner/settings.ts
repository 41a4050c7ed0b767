/**
 * Typed settings with defaults and one-line docs, and their resolution with RecBole-like
 * precedence: defaults < config file < flags. Values from files and flags are checked against
 * the declared type; an unknown name is refused with the closest known one.
 * @module
 */

/** The value types a setting can have. */
export type SettingValue = number | boolean | string | number[];

/** One setting: its type, default and meaning. */
export interface Setting<T extends SettingValue = SettingValue> {
  /** `int` and `number` are both JS numbers; `int` refuses fractions. */
  type: "int" | "number" | "boolean" | "string" | "number[]";
  /** The default value. */
  default: T;
  /** One line: what it does. */
  doc: string;
  /** Allowed values of a string setting. */
  choices?: readonly string[];
}

/** A table of settings by name. */
export type Settings = Record<string, Setting>;

/** The resolved values of a settings table, typed. */
export type ConfigOf<S extends Settings> = { [K in keyof S]: S[K]["default"] };

/** An integer setting. */
export function int(value: number, doc: string): Setting<number> {
  return { type: "int", default: value, doc };
}
/** A number setting. */
export function num(value: number, doc: string): Setting<number> {
  return { type: "number", default: value, doc };
}
/** A boolean setting. */
export function bool(value: boolean, doc: string): Setting<boolean> {
  return { type: "boolean", default: value, doc };
}
/** A string setting, optionally one of `choices`. */
export function str<T extends string>(
  value: T,
  doc: string,
  choices?: readonly T[],
): Setting<string> {
  return { type: "string", default: value, doc, choices };
}
/** A list-of-numbers setting (`--set ks=10,20`). */
export function nums(value: number[], doc: string): Setting<number[]> {
  return { type: "number[]", default: value, doc };
}

/** Levenshtein distance (for "did you mean"). */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const t = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = t;
    }
  }
  return d[b.length];
}

/** The known name closest to `name`. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bd = Infinity;
  for (const k of known) {
    const dd = distance(name, k);
    if (dd < bd) [best, bd] = [k, dd];
  }
  return best;
}

/** Error for a name not in `known`, suggesting the closest. */
export function unknownName(
  what: string,
  name: string,
  known: readonly string[],
  from?: string,
): Error {
  const c = closest(name, known);
  return new Error(
    `unknown ${what} '${name}'${from ? ` in ${from}` : ""}${c ? `; did you mean '${c}'?` : ""} ` +
      `(known: ${known.join(", ")})`,
  );
}

/**
 * Checks (or, for a string from the command line, parses) one value against its setting.
 * `from` names where the value came from, for the error.
 */
export function coerce(name: string, s: Setting, v: unknown, from: string): SettingValue {
  const given = v;
  const fail = (): never => {
    const names = {
      int: "an integer",
      number: "a number",
      boolean: "true or false",
      string: "a string",
      "number[]": "a list of numbers (1,2,3)",
    };
    const want = s.choices
      ? `one of ${s.choices.map((c) => JSON.stringify(c)).join(", ")}`
      : names[s.type];
    throw new Error(
      `setting '${name}' from ${from} is ${JSON.stringify(given)}; expected ${want} ` +
        `(default ${JSON.stringify(s.default)}: ${s.doc})`,
    );
  };
  if (typeof v === "string" && s.type !== "string") {
    const t = v.trim();
    if (s.type === "boolean") {
      if (t === "true" || t === "1") v = true;
      else if (t === "false" || t === "0") v = false;
      else fail();
    } else if (s.type === "number[]") {
      v = t === "" ? [] : t.replace(/^\[|\]$/g, "").split(",").map((x) => x.trim() ? +x : NaN);
    } else v = t === "" ? NaN : Number(t);
  }
  switch (s.type) {
    case "int":
      if (typeof v !== "number" || !Number.isInteger(v)) fail();
      break;
    case "number":
      if (typeof v !== "number" || Number.isNaN(v)) fail();
      break;
    case "boolean":
      if (typeof v !== "boolean") fail();
      break;
    case "string":
      if (typeof v !== "string" || (s.choices && !s.choices.includes(v))) fail();
      break;
    case "number[]":
      if (!Array.isArray(v) || v.some((x) => typeof x !== "number" || Number.isNaN(x))) fail();
      break;
  }
  return v as SettingValue;
}

/**
 * Resolves a config: the defaults, overridden by each layer in order (e.g. the config file,
 * then `--set` flags). Each layer is `[where it came from, values]`.
 */
export function resolveSettings<S extends Settings>(
  settings: S,
  layers: readonly [string, Record<string, unknown>][],
): ConfigOf<S> {
  const out: Record<string, SettingValue> = {};
  for (const [k, s] of Object.entries(settings)) {
    out[k] = Array.isArray(s.default) ? [...s.default] : s.default;
  }
  const known = Object.keys(settings);
  for (const [from, values] of layers) {
    for (const [k, v] of Object.entries(values)) {
      const s = settings[k];
      if (!s) throw unknownName("setting", k, known, from);
      out[k] = coerce(k, s, v, from);
    }
  }
  return out as ConfigOf<S>;
}

/** `--help` text of a settings table: name, type, default and meaning, one per line. */
export function settingsHelp(settings: Settings): string {
  const rows = Object.entries(settings).map(([k, s]) => {
    const t = s.choices ? s.choices.join("|") : s.type;
    return [k, t, JSON.stringify(s.default), s.doc];
  });
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  const w2 = Math.max(...rows.map((r) => r[2].length));
  return rows.map((r) => `  ${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2].padEnd(w2)}  ${r[3]}`)
    .join("\n");
}
