use automerge::*;
use std::time::Instant;
fn main() {
    let conn = rusqlite::Connection::open("/work/main/target/bench-small/book-2000x10.db").unwrap();
    let mut stmt = conn.prepare("SELECT data FROM docs LIMIT 500").unwrap();
    let docs: Vec<Vec<u8>> = stmt.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect();
    let n = docs.len() as f64;
    let t = Instant::now();
    for d in &docs { Automerge::load(d).unwrap(); }
    println!("load default: {:.0} us", t.elapsed().as_micros() as f64 / n);
    let t = Instant::now();
    for d in &docs { Automerge::load_with_options(d, LoadOptions::new().on_partial_load(OnPartialLoad::Error).verification_mode(VerificationMode::Check)).unwrap(); }
    println!("load check: {:.0} us", t.elapsed().as_micros() as f64 / n);
    let t = Instant::now();
    for d in &docs { Automerge::load_with_options(d, LoadOptions::new().on_partial_load(OnPartialLoad::Error).verification_mode(VerificationMode::DontCheck)).unwrap(); }
    println!("load nocheck: {:.0} us", t.elapsed().as_micros() as f64 / n);
    let loaded: Vec<Automerge> = docs.iter().map(|d| Automerge::load(d).unwrap()).collect();
    let t = Instant::now();
    for d in &loaded { d.save(); }
    println!("save: {:.0} us", t.elapsed().as_micros() as f64 / n);
    let t = Instant::now();
    for d in &loaded { d.save_after(&[]); }
    println!("save_after([]): {:.0} us", t.elapsed().as_micros() as f64 / n);
    let t = Instant::now();
    for d in &loaded { d.save_nocompress(); }
    println!("save_nocompress: {:.0} us", t.elapsed().as_micros() as f64 / n);
    println!("nocompress size {:.0}", loaded.iter().map(|d| d.save_nocompress().len()).sum::<usize>() as f64 / n);
    println!("avg size {:.0}", docs.iter().map(|d| d.len()).sum::<usize>() as f64 / n);
}
#[allow(dead_code)]
fn sizes() {}
