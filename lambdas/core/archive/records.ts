/**
 * Extracted bytes to archived records: sniffs CSV or JSON from the first bytes, parses, maps each
 * record with the report's `toRecord` and hands it to the data writer. A CSV file of a report with
 * `compileCsv` skips the record objects: each row's fields become its JSON line directly. A
 * Writable whose write callback waits for the data writer, so its backpressure reaches back to the
 * download. Written chunks may be reused once their write is done: what is kept is copied.
 */
import { Writable } from 'node:stream';
import { MalformedCsvError } from '../errors.ts';
import type { JsonObject, ReportDefinition } from '../types.ts';
import { CsvRecordReader } from './csv.ts';
import { JsonRecordReader } from './json.ts';
import type { JsonlUpload } from './jsonl-writer.ts';
import { SNIFF_BYTES, sniffFormat, type TextFormat } from './sniff.ts';

export interface RecordSinkOptions {
  /** name in error messages */
  readonly what: string;
  readonly report: ReportDefinition;
  /** the fetch's request parameters: the columns a file must have may depend on them */
  readonly requestParameters: JsonObject;
  readonly writer: JsonlUpload;
}

export class RecordSink extends Writable {
  format?: TextFormat;
  private reader?: CsvRecordReader | JsonRecordReader;
  private head: Buffer[] = [];
  private headBytes = 0;

  constructor(private readonly options: RecordSinkOptions) {
    super({ highWaterMark: 256 * 1024 });
  }

  /** records handed to the writer */
  get records(): number {
    return this.reader?.records ?? 0;
  }

  /** CSV header, for the log */
  get columns(): readonly string[] | undefined {
    return this.reader instanceof CsvRecordReader ? this.reader.header : undefined;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      if (this.reader) {
        this.reader.write(chunk);
      } else {
        this.head.push(Buffer.from(chunk)); // the chunk's buffer is reused once this write is done
        this.headBytes += chunk.length;
        if (this.headBytes >= SNIFF_BYTES) this.start();
      }
    } catch (error) {
      callback(error as Error);
      return;
    }
    this.options.writer.drain().then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    try {
      if (!this.reader) this.start();
      this.reader!.end();
    } catch (error) {
      callback(error as Error);
      return;
    }
    this.options.writer.drain().then(() => callback(), callback);
  }

  private start(): void {
    const head = Buffer.concat(this.head, this.headBytes);
    this.head = [];
    const format = sniffFormat(head, this.options.what, false) as TextFormat;
    this.format = format;
    const { report, writer, what } = this.options;
    const onRecord = (raw: Readonly<Record<string, unknown>>) => writer.add(report.toRecord(raw));
    if (format === 'csv') {
      const onHeader = (header: readonly string[]) => {
        this.checkColumns(header);
        if (!report.compileCsv) return undefined;
        const toLine = report.compileCsv(header);
        return (fields: readonly string[]) => writer.addLine(toLine(fields));
      };
      this.reader = new CsvRecordReader({ what, onRecord, onHeader });
    } else {
      this.reader = new JsonRecordReader({ what, onRecord });
    }
    this.reader.write(head);
  }

  /** A CSV header without a column the docs promise (a renamed one, say) fails the file. */
  private checkColumns(header: readonly string[]): void {
    const { report, requestParameters, what } = this.options;
    const missing = report.missingColumns?.(header, requestParameters) ?? [];
    if (missing.length === 0) return;
    const shown = header.length > 60 ? [...header.slice(0, 60), '…'] : header;
    throw new MalformedCsvError(
      `${what} lacks the documented column${missing.length === 1 ? '' : 's'} ${missing.join(', ')} of report ${report.name}; received the header ${JSON.stringify(shown.join(','))}`,
    );
  }
}
