//! Scaled MEDEC inputs: every row of the bundled release CSV repeated N times, each copy
//! with a new unique `Text ID` (`<id>-r<copy>`), every other column kept as released.

use std::path::Path;

/// Writes `copies` copies of every row of `source` (a MEDEC release CSV) to `target`,
/// with CRLF record ends as in the release. Returns the rows written.
pub fn write_scaled(source: &Path, copies: usize, target: &Path) -> usize {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(source)
        .expect("the bundled MEDEC CSV is readable");
    let mut records = reader.byte_records();
    let header = records
        .next()
        .expect("the MEDEC CSV has a header")
        .expect("the header is CSV");
    let id_column = header
        .iter()
        .position(|name| {
            let name = name.strip_prefix("\u{feff}".as_bytes()).unwrap_or(name);
            name == b"Text ID"
        })
        .expect("the MEDEC CSV has a `Text ID` column");
    let rows: Vec<csv::ByteRecord> = records.map(|r| r.expect("a CSV row")).collect();
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_path(target)
        .expect("the scratch folder is writable");
    writer.write_byte_record(&header).expect("write the header");
    let mut written = 0;
    for copy in 0..copies {
        for row in &rows {
            let scaled_row: csv::ByteRecord = row
                .iter()
                .enumerate()
                .map(|(column, field)| {
                    if column == id_column {
                        let mut id = field.to_vec();
                        id.extend_from_slice(format!("-r{copy}").as_bytes());
                        id
                    } else {
                        field.to_vec()
                    }
                })
                .collect();
            writer.write_byte_record(&scaled_row).expect("write a row");
            written += 1;
        }
    }
    writer.flush().expect("flush the scaled CSV");
    written
}
