/**
 * A task's taxonomy: items, each in one group, with aliases; looked up the way the country
 * taxonomy is (`normalizeName`: case, spacing and punctuation do not matter; an alias that would
 * name two items names neither). Built from entries, it refuses what cannot make a task: an item
 * in two groups, an item that is also a group's name, an empty item or group.
 *
 * @module
 */
import {
  buildNameIndex,
  type DroppedAlias,
  type NameCandidate,
  normalizeName,
} from "../countries/mod.ts";
import { TaskError } from "../run/mod.ts";

/** One item of a task taxonomy. */
export interface TaskItem {
  /** Canonical name (what the generator writes). */
  readonly name: string;
  /** Its group. */
  readonly group: string;
  /** Other names that resolve to it. */
  readonly aliases: readonly string[];
}

/** A taxonomy's look-up API. */
export interface TaskTaxonomy {
  /** Its name (a built-in's name, or the file it was read from). */
  readonly name: string;
  /** Group names, in the order of their first item. */
  readonly groups: readonly string[];
  /** Every item, group after group, each group's items in their given order. */
  readonly items: readonly TaskItem[];
  /** Aliases dropped because they would name two items. */
  readonly droppedAliases: readonly DroppedAlias[];
  /** The items of one group (none for an unknown group). */
  itemsOf(group: string): readonly TaskItem[];
  /** Resolves a free-text name (or alias) to an item. */
  resolveItem(text: string): TaskItem | undefined;
  /** Resolves a group label (its name, or one of `groupAliases`) to a group name. */
  resolveGroup(label: string): string | undefined;
}

/** One entry offered to {@link buildTaxonomy}, with where it came from for error messages. */
export interface TaxonomyInput {
  item: string;
  group: string;
  aliases?: readonly string[];
  /** Where the entry was read, e.g. `my.csv: row 4`. */
  where?: string;
}

/** Options of {@link buildTaxonomy}. */
export interface BuildTaxonomyOptions {
  /** The taxonomy's name. */
  name: string;
  /** Other labels for a group, by group name (`북미` for `북아메리카`). */
  groupAliases?: Readonly<Record<string, readonly string[]>>;
}

/**
 * Builds a taxonomy from entries. Throws a one-line {@link TaskError} naming the entry for an
 * empty item or group, an item listed in two groups (or twice), and an item whose name is also a
 * group's name.
 */
export function buildTaxonomy(
  entries: readonly TaxonomyInput[],
  options: BuildTaxonomyOptions,
): TaskTaxonomy {
  const at = (e: TaxonomyInput, i: number) => e.where ?? `${options.name}: entry ${i + 1}`;
  const byGroup = new Map<string, TaskItem[]>();
  const seen = new Map<string, { entry: TaxonomyInput; index: number }>();
  entries.forEach((e, i) => {
    const item = e.item.trim();
    const group = e.group.trim();
    if (item === "") throw new TaskError(`${at(e, i)}: empty item`);
    if (group === "") throw new TaskError(`${at(e, i)}: item "${item}" has an empty group`);
    const key = normalizeName(item);
    const before = seen.get(key);
    if (before) {
      const other = before.entry.group.trim();
      throw new TaskError(
        other === group
          ? `${at(e, i)}: item "${item}" is listed twice in group "${group}" ` +
            `(first at ${at(before.entry, before.index)})`
          : `${at(e, i)}: item "${item}" is in two groups, "${other}" ` +
            `(${at(before.entry, before.index)}) and "${group}"`,
      );
    }
    seen.set(key, { entry: e, index: i });
    const aliases = Object.freeze([...new Set((e.aliases ?? []).map((a) => a.trim()))].filter(
      (a) => a !== "" && a !== item,
    ));
    const list = byGroup.get(group) ?? [];
    list.push(Object.freeze({ name: item, group, aliases }));
    byGroup.set(group, list);
  });
  const groups = [...byGroup.keys()];
  const groupKeys = new Map(groups.map((g) => [normalizeName(g), g]));
  entries.forEach((e, i) => {
    const clash = groupKeys.get(normalizeName(e.item));
    if (clash !== undefined) {
      throw new TaskError(`${at(e, i)}: item "${e.item.trim()}" is also a group name`);
    }
  });
  const items = Object.freeze(groups.flatMap((g) => byGroup.get(g)!));

  const candidates: NameCandidate[] = [];
  items.forEach((it, i) => {
    candidates.push({ name: it.name, code: String(i), tier: 0 });
    for (const a of it.aliases) candidates.push({ name: a, code: String(i), tier: 1 });
  });
  const { index, dropped } = buildNameIndex(candidates);
  const droppedAliases = Object.freeze(dropped.map((d) => ({
    alias: d.alias,
    codes: d.codes.map((c) => items[Number(c)].name),
  })));

  const groupIndex = new Map<string, string>();
  for (const g of groups) {
    groupIndex.set(normalizeName(g), g);
    for (const a of options.groupAliases?.[g] ?? []) groupIndex.set(normalizeName(a), g);
  }
  const itemsByGroup = new Map(groups.map((g) => [g, Object.freeze(byGroup.get(g)!)]));
  return Object.freeze({
    name: options.name,
    groups: Object.freeze(groups),
    items,
    droppedAliases,
    itemsOf: (group: string) => itemsByGroup.get(group) ?? [],
    resolveItem: (text: string) => {
      const code = index.get(normalizeName(text));
      return code === undefined ? undefined : items[Number(code)];
    },
    resolveGroup: (label: string) => groupIndex.get(normalizeName(label)),
  });
}
