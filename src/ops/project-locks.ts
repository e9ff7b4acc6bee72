/**
 * The locks of several projects at once, for operations that change agents of more than one project
 * (rm, cleanup). Taken in name order, so two such runs never wait on each other in a cycle.
 */
import { ID_PATTERN } from '../config/rules.js';
import { acquireLock, type Release } from '../lock.js';

export async function lockProjects(projects: Iterable<string>, waitMs?: number): Promise<Release> {
  const releases: Release[] = [];
  const releaseAll = async () => {
    for (const release of releases.reverse()) await release();
  };
  // Project names from labels are engine data and name lock files: only valid names get one. (apply,
  // the run these locks keep us apart from, only ever runs with valid names.)
  const names = [...new Set(projects)].filter((p) => ID_PATTERN.test(p)).sort();
  try {
    for (const name of names) releases.push(await acquireLock(name, { waitMs }));
  } catch (err) {
    await releaseAll();
    throw err;
  }
  return releaseAll;
}
