// HTTP calls to the Kinoroom API. Never throws: every outcome is {ok, status, data, code,
// message}, with `code` the server's stable error code (or "network" when offline).

export async function api(method, path, { body, token, accept = "application/json" } = {}) {
  const headers = { Accept: accept };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    return { ok: false, status: 0, code: "network", message: "no connection to the server" };
  }
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json().catch(() => null) : await response.text();
  if (response.ok) return { ok: true, status: response.status, data };
  const code = (data && data.error) || `http-${response.status}`;
  const message = (data && data.message) || response.statusText;
  return { ok: false, status: response.status, code, message, data };
}
