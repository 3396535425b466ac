/**
 * The first schema. Written with knex's schema builder rather than raw SQL so the same migration
 * runs on SQLite and (later) PostgreSQL. Each statement is added separately: the sqlite driver
 * runs one statement per call.
 */
import { Migration } from '@mikro-orm/migrations';
import type { Knex } from '@mikro-orm/knex';

export class Migration0001InitialSchema extends Migration {
  override async up(): Promise<void> {
    // A knex SchemaBuilder accumulates statements: take a fresh one per table.
    const schema = () => this.getKnex().schema;
    this.addAll(
      schema().createTable('models', (t) => {
        t.increments('id').primary();
        t.string('key').notNullable().unique();
        t.string('backend').notNullable();
        t.string('model_id').notNullable();
        t.string('family');
        t.double('parameter_count_b');
        t.string('quantization');
        t.integer('context_length');
        t.text('capabilities').notNullable();
        t.bigInteger('size_bytes');
        t.string('digest');
        t.boolean('available').notNullable();
        t.bigInteger('vram_bytes');
        t.datetime('vram_measured_at');
        t.datetime('first_seen_at').notNullable();
        t.datetime('last_seen_at').notNullable();
      }),
    );
    this.addAll(
      schema().createTable('profiles', (t) => {
        t.increments('id').primary();
        t.string('model_key').notNullable();
        t.string('category').notNullable();
        t.double('score').notNullable();
        t.double('ttft_ms');
        t.double('tokens_per_second');
        t.double('total_latency_ms');
        t.integer('prompts').notNullable();
        t.integer('failures').notNullable();
        t.integer('timeouts').notNullable();
        t.string('judge').notNullable();
        t.string('prompt_set_version').notNullable();
        t.datetime('updated_at').notNullable();
        t.unique(['model_key', 'category']);
      }),
    );
    this.addAll(
      schema().createTable('benchmark_scores', (t) => {
        t.increments('id').primary();
        t.string('entry').notNullable();
        t.string('benchmark').notNullable();
        t.double('score').notNullable();
        t.double('normalized').notNullable();
        t.string('source').notNullable();
        t.string('source_url');
        t.datetime('fetched_at').notNullable();
        t.unique(['entry', 'benchmark', 'source']);
      }),
    );
    this.addAll(
      schema().createTable('routing_decisions', (t) => {
        t.increments('id').primary();
        t.string('response_id').notNullable().unique();
        t.string('request_id');
        t.datetime('created_at').notNullable().index();
        t.string('protocol').notNullable();
        t.string('category').notNullable();
        t.string('complexity').notNullable();
        t.double('complexity_score').notNullable();
        t.string('selected_model');
        t.double('quality_preference').notNullable();
        t.text('candidates').notNullable();
        t.text('attempts').notNullable();
        t.string('cache').notNullable();
        t.string('status').notNullable();
        t.double('latency_ms');
      }),
    );
    this.addAll(
      schema().createTable('feedback', (t) => {
        t.increments('id').primary();
        t.string('response_id').notNullable().index();
        t.string('model_key').notNullable().index();
        t.string('category').notNullable();
        t.double('score').notNullable();
        t.text('comment');
        t.datetime('created_at').notNullable();
      }),
    );
  }

  private addAll(builder: Knex.SchemaBuilder): void {
    for (const statement of builder.toSQL()) this.addSql(statement.sql);
  }
}
