import type { ModelDefinition, MongoConnection } from '../../core/index.js';

/**
 * The collections a backup takes and a restore may write: those of models registered with
 * `backup: true`, each with the models stored in it. Anything else (sessions, caches) is never
 * archived, so an archive that names it was not made by this server as it is now.
 */
export function backedUpCollections(mongo: MongoConnection): Map<string, Array<ModelDefinition<unknown>>> {
  const byName = new Map<string, Array<ModelDefinition<unknown>>>();
  for (const definition of mongo.registered()) {
    if (!definition.backup) continue;
    const name = mongo.model(definition).collection.collectionName;
    byName.set(name, [...(byName.get(name) ?? []), definition]);
  }
  return byName;
}
