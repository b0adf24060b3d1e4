/**
 * What the report calls things: the country task's words (국가 / 대륙, country / continent), or a
 * task's own labels. The report, its charts and its statistics take their wording from here, so a
 * run of another task speaks of its own items and groups, and the country task's report keeps the
 * cookbook's wording word for word.
 *
 * @module
 */
import type { TaskRecord } from "../run/mod.ts";

/** The words a report uses for a task. */
export interface TaskTerms {
  /** One item, in Korean (`국가`). */
  item: string;
  /** One group, in Korean (`대륙`). */
  group: string;
  /** One item, in English (`country`). */
  itemEn: string;
  /** Items, in English (`countries`). */
  itemsEn: string;
  /** One group, in English (`continent`). */
  groupEn: string;
  /** `n` items (`10개국`). */
  items: (n: number) => string;
  /** `n` groups (`3개 대륙`). */
  groups: (n: number) => string;
  /** The report's title before `LoRA 튜닝 재현 보고서` (`국가 분류`). */
  title: string;
  /** The report's English title before `LoRA tuning reproduction report`. */
  titleEn: string;
  /** Whether this is the cookbook's own task (its published figures are shown beside ours). */
  cookbook: boolean;
}

/** The country task's words: the cookbook's. */
export const COUNTRY_TERMS: TaskTerms = Object.freeze({
  item: "국가",
  group: "대륙",
  itemEn: "country",
  itemsEn: "countries",
  groupEn: "continent",
  items: (n: number) => `${n}개국`,
  groups: (n: number) => `${n}개 대륙`,
  title: "국가 분류",
  titleEn: "Country-to-continent",
  cookbook: true,
});

/** Whether a run's task is the cookbook's (no task, or the built-in `countries`). */
export function isCountryTask(task?: TaskRecord): boolean {
  if (task === undefined) return true;
  if (task.kind !== "taxonomy") return false;
  const source = task.spec.taxonomy;
  return "builtin" in source && source.builtin === "countries";
}

/**
 * The words for a run's task: the country task's for a run without one or of the built-in
 * `countries`, the task's labels otherwise (`item` / `group` in English).
 */
export function termsOf(task?: TaskRecord): TaskTerms {
  if (!task || isCountryTask(task)) return COUNTRY_TERMS;
  const { item, group } = task.labels;
  return Object.freeze({
    item,
    group,
    itemEn: "item",
    itemsEn: "items",
    groupEn: "group",
    items: (n: number) => `${n}개 ${item}`,
    groups: (n: number) => `${n}개 ${group}`,
    title: `${item} 분류 (${task.name})`,
    titleEn: `Item-to-group (${task.name})`,
    cookbook: false,
  });
}
