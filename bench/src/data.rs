//! A deterministic synthetic client base shaped like a real one: Ukrainian, Polish and Russian
//! names, mobile numbers typed in mixed formats, some emails and birthdays, ten visits a client
//! over two years with one to three services each, mostly completed.

use chrono::{DateTime, Duration, TimeZone, Utc};
use kartka_core::model::{
    Birthday, ClientClass, NewClient, NewVisit, ReminderOverride, ServiceLine, VisitStatus,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const GIVEN: &[&str] = &[
    "Олена",
    "Ірина",
    "Марія",
    "Оксана",
    "Наталія",
    "Тетяна",
    "Юлія",
    "Анна",
    "Світлана",
    "Катерина",
    "Вікторія",
    "Людмила",
    "Галина",
    "Христина",
    "Софія",
    "Дарина",
    "Андрій",
    "Олег",
    "Ігор",
    "Łucja",
    "Małgorzata",
    "Agnieszka",
    "Katarzyna",
    "Zofia",
    "Joanna",
    "Paweł",
    "Ewa",
    "Екатерина",
    "Ольга",
    "Елена",
    "Дмитрий",
    "Наталья",
    "Татьяна",
    "Alina",
    "Kate",
    "Emma",
];
const FAMILY: &[&str] = &[
    "Коваленко",
    "Шевченко",
    "Бондаренко",
    "Ткаченко",
    "Кравченко",
    "Олійник",
    "Мельник",
    "Шевчук",
    "Поліщук",
    "Лисенко",
    "Ковальчук",
    "Савченко",
    "Руденко",
    "Марченко",
    "Петренко",
    "Гнатюк",
    "Їжакевич",
    "Ґудзь",
    "Kowalska",
    "Nowak",
    "Wiśniewska",
    "Wójcik",
    "Kamińska",
    "Lewandowska",
    "Zielińska",
    "Szymańska",
    "Woźniak",
    "Dąbrowska",
    "Иванова",
    "Смирнова",
    "Кузнецова",
    "Попова",
    "Соколова",
    "Smith",
    "Brown",
    "Żółkiewska",
];
const SERVICES: &[(&str, i64)] = &[
    ("Манікюр класичний", 45000),
    ("Манікюр з покриттям", 80000),
    ("Педикюр", 90000),
    ("Нарощування вій 2D", 120000),
    ("Корекція брів", 30000),
    ("Стрижка жіноча", 70000),
    ("Фарбування", 180000),
    ("Укладка", 50000),
    ("Парафінотерапія", 25000),
    ("Дизайн нігтів", 10000),
];

pub struct Generator {
    rng: StdRng,
    pub now: DateTime<Utc>,
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        Generator {
            rng: StdRng::seed_from_u64(seed),
            now: Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap(),
        }
    }

    pub fn name(&mut self) -> (String, String) {
        let g = GIVEN[self.rng.random_range(0..GIVEN.len())];
        let f = FAMILY[self.rng.random_range(0..FAMILY.len())];
        (g.to_string(), f.to_string())
    }

    /// A valid Ukrainian mobile number, typed one of the ways people type them.
    pub fn phone(&mut self) -> (String, String) {
        let op = [
            "50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99",
        ][self.rng.random_range(0..12)];
        let n: u32 = self.rng.random_range(0..10_000_000);
        let e164 = format!("+380{op}{n:07}");
        let typed = match self.rng.random_range(0..4) {
            0 => e164.clone(),
            1 => format!("0{op}{n:07}"),
            2 => format!(
                "0{op} {:03} {:02} {:02}",
                n / 10_000,
                (n / 100) % 100,
                n % 100
            ),
            _ => format!(
                "+38 (0{op}) {:03}-{:02}-{:02}",
                n / 10_000,
                (n / 100) % 100,
                n % 100
            ),
        };
        (typed, e164)
    }

    pub fn client(&mut self, i: usize) -> NewClient {
        let (given, family) = self.name();
        let (phone, _) = self.phone();
        let r: u32 = self.rng.random_range(0..100);
        NewClient {
            name: format!("{given} {family}"),
            given_name: Some(given),
            family_name: Some(family),
            phones: vec![(phone, "mobile".into())],
            email: (r < 40).then(|| format!("client{i}@example.com")),
            birthday: (r < 60).then(|| {
                let m = self.rng.random_range(1..=12);
                let d = self.rng.random_range(1..=28);
                if r < 30 {
                    Birthday::MonthDay { month: m, day: d }
                } else {
                    format!("{}-{m:02}-{d:02}", self.rng.random_range(1960..2008))
                        .parse()
                        .unwrap()
                }
            }),
            comment: (r < 25).then(|| "Алергія на ацетон, любить пастельні відтінки".to_string()),
            class: Some(if r < 8 {
                ClientClass::Vip
            } else {
                ClientClass::Regular
            }),
            tags: if r < 20 {
                vec!["постійна".into()]
            } else {
                Vec::new()
            },
            loyalty_card: (r < 15).then(|| format!("LC-{i:06}")),
            discount_percent: (r < 10).then_some(5),
            source: None,
        }
    }

    /// `count` visits over the last two years (the last one or two still booked ahead).
    pub fn visits(&mut self, count: usize) -> Vec<NewVisit> {
        (0..count)
            .map(|k| {
                let days_ago = (count - k) as i64 * 70 - self.rng.random_range(0..30) - 60;
                let start = self.now - Duration::days(days_ago)
                    + Duration::minutes(30 * self.rng.random_range(0..18));
                let lines = self.rng.random_range(1..=3);
                let services: Vec<ServiceLine> = (0..lines)
                    .map(|_| {
                        let (name, price) = SERVICES[self.rng.random_range(0..SERVICES.len())];
                        ServiceLine {
                            name: name.into(),
                            price,
                            quantity: 1,
                        }
                    })
                    .collect();
                let total: i64 = services.iter().map(|s| s.price).sum();
                let upcoming = start > self.now;
                let status = if upcoming {
                    VisitStatus::Booked
                } else if self.rng.random_range(0..20) == 0 {
                    VisitStatus::Cancelled
                } else {
                    VisitStatus::Completed
                };
                NewVisit {
                    client_id: uuid::Uuid::nil(),
                    start,
                    duration_min: 60 * lines as u32,
                    services,
                    total: None,
                    paid: if status == VisitStatus::Completed {
                        total
                    } else {
                        0
                    },
                    status,
                    staff_id: None,
                    note: None,
                    reminder: ReminderOverride::Default,
                    repeat_after_days: None,
                }
            })
            .collect()
    }
}
