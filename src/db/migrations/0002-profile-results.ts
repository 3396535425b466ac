/**
 * Resumable profiling. `profile_results` keeps every finished prompt (unique per model, prompt and
 * prompt-set version, so a re-run overwrites in place and a new set starts clean);
 * `profiled_models` remembers what each model was last profiled as (digest, size, prompt set, when
 * it finished), which is how a restart tells finished models from interrupted ones and a changed
 * model from an unchanged one. Written like 0001: knex schema builder, one statement per addSql.
 */
import { Migration } from '@mikro-orm/migrations';
import type { Knex } from '@mikro-orm/knex';

export class Migration0002ProfileResults extends Migration {
  override async up(): Promise<void> {
    const schema = () => this.getKnex().schema;
    this.addAll(
      schema().createTable('profile_results', (t) => {
        t.increments('id').primary();
        t.string('model_key').notNullable();
        t.string('prompt_id').notNullable();
        t.string('prompt_set_version').notNullable();
        t.string('category').notNullable();
        t.double('score').notNullable();
        t.double('ttft_ms');
        t.double('tokens_per_second');
        t.double('latency_ms');
        t.boolean('failed').notNullable();
        t.boolean('timed_out').notNullable();
        t.datetime('created_at').notNullable();
        t.unique(['model_key', 'prompt_id', 'prompt_set_version']);
      }),
    );
    this.addAll(
      schema().createTable('profiled_models', (t) => {
        t.increments('id').primary();
        t.string('model_key').notNullable().unique();
        t.string('digest');
        t.bigInteger('size_bytes');
        t.string('prompt_set_version').notNullable();
        t.integer('prompts_per_category').notNullable();
        t.string('judge').notNullable();
        t.datetime('started_at').notNullable();
        t.datetime('finished_at');
      }),
    );
  }

  private addAll(builder: Knex.SchemaBuilder): void {
    for (const statement of builder.toSQL()) this.addSql(statement.sql);
  }
}
