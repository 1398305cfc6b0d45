// Shared by the peer's server and clients: the same business as Kartka's benchmarks, laid out
// the way automerge-repo recommends (one document per client, and an index document listing
// the clients' document URLs, as Kartka's business document lists its settings).

const GIVEN = ["Олена", "Ірина", "Марія", "Наталія", "Оксана", "Тетяна", "Юлія", "Анна", "Катерина", "Світлана"];
const FAMILY = ["Коваленко", "Бондаренко", "Ткаченко", "Кравченко", "Шевченко", "Мельник", "Бойко", "Савченко", "Олійник", "Лисенко"];
const SERVICES = [["Манікюр", 60000], ["Педикюр", 80000], ["Стрижка", 50000], ["Фарбування", 150000], ["Брови", 30000]];

// A small deterministic generator (xorshift), so both systems get the same records.
export function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

export function client(i, visits, r) {
  const pick = (a) => a[Math.floor(r() * a.length)];
  const phone = "+38067" + String(1000000 + i).padStart(7, "0");
  const doc = {
    schema: 2,
    name: `${pick(GIVEN)} ${pick(FAMILY)}`,
    phones: [{ e164: phone, raw: phone, label: "mobile", primary: true }],
    email: `client${i}@example.com`,
    birthday: `--${String(1 + (i % 12)).padStart(2, "0")}-${String(1 + (i % 28)).padStart(2, "0")}`,
    comment: "",
    class: "regular",
    tags: [],
    discount: 0,
    consent: { sms: { granted: true, at: 1790000000000, source: "written", note: "анкета" } },
    visits: {},
  };
  for (let v = 0; v < visits; v++) {
    const [name, price] = pick(SERVICES);
    doc.visits[`v${i}-${v}`] = {
      start: 1790000000000 + (i * 10 + v) * 3600000,
      zone: "Europe/Kyiv",
      duration_min: 60,
      services: [{ name, price, quantity: 1 }],
      total: price,
      paid: price,
      status: "completed",
    };
  }
  return doc;
}

export function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
