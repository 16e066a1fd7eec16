// Sync map item chores every parking function needs, on the REST client from common/client.
//
//   const sync = require(Runtime.getFunctions()['common/sync'].path);
//   const item = await sync.fetchItem(context, client, { map, key });     // {data, revision} | null
const { requireEnv, withRetry } = require(Runtime.getFunctions()['common/client'].path);

const isCode = (err, status, code) => err && err.status === status && (code === undefined || err.code === code);

function syncService(context, client) {
  return client.sync.v1.services(requireEnv(context, 'SYNC_SERVICE_SID'));
}

/** The item `{data, revision}` or null when the map or the item does not exist. */
async function fetchItem(context, client, { map, key }) {
  try {
    const item = await withRetry(context, () => syncService(context, client).syncMaps(map).syncMapItems(key).fetch());
    return { data: item.data, revision: item.revision };
  } catch (err) {
    if (isCode(err, 404)) return null;
    throw err;
  }
}

/** Creates the item, or updates it if the key exists; creates the map if it is missing. */
async function upsertItem(context, client, { map, key, data, ttl }) {
  const svc = () => syncService(context, client);
  const create = () => withRetry(context, () => svc().syncMaps(map).syncMapItems.create({ key, data, ttl }));
  const update = () => withRetry(context, () => svc().syncMaps(map).syncMapItems(key).update({ data, ttl }));
  try {
    return await create();
  } catch (err) {
    if (isCode(err, 409, 54208)) return update();
    if (!isCode(err, 404)) throw err;
  }
  try {
    await withRetry(context, () => svc().syncMaps.create({ uniqueName: map }));
  } catch (err) {
    if (!isCode(err, 409)) throw err; // created meanwhile by another request
  }
  try {
    return await create();
  } catch (err) {
    if (isCode(err, 409, 54208)) return update();
    throw err;
  }
}

/** Deletes the item; an item (or map) that does not exist is fine. */
async function deleteItem(context, client, { map, key, ifMatch }) {
  try {
    await withRetry(context, () => syncService(context, client).syncMaps(map).syncMapItems(key).remove(ifMatch ? { ifMatch } : undefined));
    return true;
  } catch (err) {
    if (isCode(err, 404)) return false;
    throw err;
  }
}

/** Conditional update; resolves with the new revision, or throws Twilio's error (412: the revision moved on; 404: gone). */
async function updateItem(context, client, { map, key, data, ifMatch }) {
  const item = await withRetry(context, () => syncService(context, client).syncMaps(map).syncMapItems(key).update({ data, ifMatch }));
  return item.revision;
}

/** Conditional update; resolves with the new revision, or null if the revision no longer matches / the item is gone. */
async function updateItemIfMatch(context, client, { map, key, data, ifMatch }) {
  try {
    const item = await withRetry(context, () => syncService(context, client).syncMaps(map).syncMapItems(key).update({ data, ifMatch }));
    return item.revision;
  } catch (err) {
    if (isCode(err, 412) || isCode(err, 404)) return null;
    throw err;
  }
}

module.exports = { fetchItem, upsertItem, deleteItem, updateItem, updateItemIfMatch, isCode };
