// Page helpers for the demo's pages: they wait on what the page shows
// (data-* attributes the components set), never on fixed sleeps.

/** How long any one page condition may take. */
export const T = 20000;

/** waitBadge waits until the connection badge shows state (and transport, if given). */
export async function waitBadge(page, state, { transport, recovered, error, testid = "badge", timeout = T } = {}) {
  try {
    await page.waitForFunction(
      ({ testid, state, transport, recovered, error }) => {
        const b = document.querySelector(`[data-testid="${testid}"]`);
        return (
          b &&
          b.dataset.state === state &&
          (transport === undefined || b.dataset.transport === transport) &&
          (recovered === undefined || b.dataset.recovered === String(recovered)) &&
          (error === undefined || b.dataset.error === error)
        );
      },
      { testid, state, transport, recovered, error },
      { timeout },
    );
  } catch (err) {
    const shown = await page.getByTestId(testid).evaluate((b) => ({ ...b.dataset, text: b.textContent })).catch(() => null);
    throw new Error(`badge never showed ${state}${transport ? ` via ${transport}` : ""}; it shows ${JSON.stringify(shown)}\n${err.message}`);
  }
}

/** openChat opens /chat, sets the name (unless auth is on) and joins room. */
export async function openChat(page, base, { name, room }) {
  await page.goto(`${base}/chat`);
  await page.getByTestId("badge").waitFor({ timeout: T });
  if (name !== undefined) await page.locator("input[name=name]").fill(name);
  await page.locator("input[name=room]").fill(room);
  await page.getByRole("button", { name: /^(Join|Rejoin)$/ }).click();
  await waitJoined(page);
}

/** waitJoined waits until the chat page says it is in its room. */
export async function waitJoined(page, timeout = T) {
  await page.locator('[data-testid=room-state][data-joined="true"]').waitFor({ timeout });
}

/** say types a chat message and sends it. */
export async function say(page, text) {
  await page.getByLabel("message", { exact: true }).fill(text);
  await page.getByLabel("message", { exact: true }).press("Enter");
}

/** messages lists the chat messages shown, oldest first. */
export function messages(page) {
  return page.getByTestId("message").evaluateAll((els) =>
    els.map((el) => ({ from: el.dataset.from, text: el.querySelector(".text").textContent })),
  );
}

/** waitMessages waits until the page shows at least n chat messages. */
export async function waitMessages(page, n, timeout = T) {
  try {
    await page.waitForFunction((n) => document.querySelectorAll("[data-testid=message]").length >= n, n, { timeout });
  } catch (err) {
    const shown = await page.getByTestId("messages").textContent().catch(() => null);
    const badge = await page.getByTestId("badge").textContent().catch(() => null);
    throw new Error(`fewer than ${n} messages; the page shows ${JSON.stringify(shown)}, badge ${JSON.stringify(badge)}\n${err.message}`);
  }
  return messages(page);
}

/** waitText waits until the page shows text inside selector. */
export async function waitText(page, selector, text, timeout = T) {
  await page.waitForFunction(
    ({ selector, text }) => [...document.querySelectorAll(selector)].some((el) => el.textContent.includes(text)),
    { selector, text },
    { timeout },
  );
}

/**
 * until polls check (outside the page) until it returns true; anything else
 * it returns is the state shown when the deadline passes.
 */
export async function until(check, timeout = T) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const got = await check();
    if (got === true) return;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeout} ms; last: ${got}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
