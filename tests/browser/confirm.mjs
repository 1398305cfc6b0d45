// Opens a confirmation link in headless Chromium, as a client would from their phone, checks
// the page shows the visit, presses the button with the given id ("confirm" or "cancel") and
// prints what the page said before and after as one JSON line. A screenshot of the answer goes
// to SCREENSHOT when set.
//
//   node confirm.mjs <link> <confirm|cancel>
//
// The browser is Debian's Chromium (CHROMIUM, default /usr/bin/chromium): playwright-core
// downloads no browser of its own.
import { chromium } from "playwright-core";

const [link, button] = process.argv.slice(2);
if (!link || !["confirm", "cancel"].includes(button)) {
  console.error("usage: node confirm.mjs <link> <confirm|cancel>");
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  // This machine's network is closed: without these, Chromium's background services keep
  // trying to reach Google, and the sandbox needs privileges a CI container lacks.
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
  const response = await page.goto(link);
  const before = {
    status: response.status(),
    title: await page.title(),
    when: (await page.locator("#when").count()) ? await page.locator("#when").innerText() : null,
    buttons: await page.locator("button").allInnerTexts(),
  };
  await Promise.all([page.waitForNavigation(), page.click(`#${button}`)]);
  const after = { state: await page.locator("#state").innerText() };
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT });
  console.log(JSON.stringify({ before, after }));
} finally {
  await browser.close();
}
