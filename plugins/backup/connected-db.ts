import type { Db } from 'mongodb';
import type { MongoConnection } from '../../core/index.js';

/** The server's own database; backups and restores only run after the core connected it. */
export function connectedDb(mongo: MongoConnection): Db {
  const db = mongo.connection.db;
  if (!db) throw new Error('MongoDB is not connected');
  return db;
}
