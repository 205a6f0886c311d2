/** Loaded by mocha before any test: tests always run with config/test.json. */
process.env.NODE_ENV = 'test';
if (!process.env.MONGODB_URI || !process.env.REDIS_URL) {
  throw new Error('Run the tests with `npm test`: it starts FerretDB and Redis (or set MONGODB_URI and REDIS_URL).');
}
