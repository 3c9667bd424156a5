/**
 * Calls to the server extension's REST API (under the server's base URL).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { API_NAMESPACE } from './tokens';

/** One row of `GET studies`. */
export interface IStudySummary {
  name: string;
  space: string | null;
  strategy: string | null;
  metric: string | null;
  direction: string;
  n_trials: number;
  best_score: number | null;
  state: string;
  started: string | null;
  updated: string | null;
  /** The study file, relative to the server root, or `null` for a database URL. */
  db: string | null;
  url: string | null;
}

export interface IStudyList {
  studies: IStudySummary[];
  errors: { db?: string | null; url?: string | null; message: string }[];
}

/** GET `<base>/jupyter-automl/api/<path>?<params>` and parse the JSON answer. */
export async function requestAPI<T>(
  path: string,
  params: [string, string][] = [],
  init: RequestInit = {}
): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const query = new URLSearchParams(params).toString();
  const url =
    URLExt.join(settings.baseUrl, API_NAMESPACE, path) +
    (query ? `?${query}` : '');
  const response = await ServerConnection.makeRequest(url, init, settings);
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try {
      const body: unknown = JSON.parse(text);
      if (typeof body === 'object' && body !== null && 'message' in body) {
        message = String((body as { message: unknown }).message);
      }
    } catch {
      // not JSON: keep the text
    }
    throw new ServerConnection.ResponseError(
      response,
      message || response.statusText
    );
  }
  return JSON.parse(text) as T;
}

/** POST `body` as JSON to `<base>/jupyter-automl/api/<path>` (a pure call such as `validate`). */
export function postAPI<T>(path: string, body: unknown): Promise<T> {
  return requestAPI<T>(path, [], {
    method: 'POST',
    body: JSON.stringify(body)
  });
}

/** Query parameters that point at a study's storage. */
export function locationParams(study: {
  db: string | null;
  url: string | null;
}): [string, string][] {
  return study.db !== null
    ? [['db', study.db]]
    : study.url !== null
      ? [['url', study.url]]
      : [];
}
