import type pg from 'pg';

/**
 * Which tables this project created. Every table a workload's init creates carries the comment
 * `aurora-load-test:<workload>`; init and reset drop only tables that carry it, so a table of the
 * same name that someone else made (a bring-your-own database, a `pgbench -i` run by hand) is never
 * dropped.
 */
export function markerOf(workload: string): string {
  return `aurora-load-test:${workload}`;
}

/** What a table name stands for in the database: nothing, one of ours, or someone else's. */
export type TableOwner = 'missing' | 'ours' | 'foreign';

/** The owner of each of `tables` (resolved through the search_path, as the workload's statements are). */
export async function tableOwners(client: pg.ClientBase, workload: string, tables: readonly string[]): Promise<Map<string, TableOwner>> {
  const { rows } = await client.query<{ name: string; present: boolean; comment: string | null }>(
    `SELECT t.name, to_regclass(t.name) IS NOT NULL AS present, obj_description(to_regclass(t.name), 'pg_class') AS comment
       FROM unnest($1::text[]) AS t(name)`,
    [tables],
  );
  const marker = markerOf(workload);
  return new Map(rows.map((r) => [r.name, !r.present ? 'missing' : r.comment === marker ? 'ours' : 'foreign']));
}

/**
 * Marks `table` as created by this project. COMMENT takes no bind parameters, so the name and the
 * marker (both the workload's own constants) are quoted by the client.
 */
export async function markTable(client: pg.ClientBase, workload: string, table: string): Promise<void> {
  await client.query(`COMMENT ON TABLE ${client.escapeIdentifier(table)} IS ${client.escapeLiteral(markerOf(workload))}`);
}
