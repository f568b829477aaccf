import { decodeGlucoseMeasurementContext, type GlucoseMeasurementContext } from './glucose-context.ts';
import { decodeGlucoseMeasurement, type GlucoseMeasurement } from './glucose-measurement.ts';
import type { RacpCommand } from './racp.ts';

/** A stored record as a transfer delivers it: the measurement and, if the meter has one, its context. */
export interface GlucoseRecord {
  measurement: GlucoseMeasurement;
  context?: GlucoseMeasurementContext;
}

/**
 * Gathers the notifications of one or more transfers into records. A context is notified right
 * after its measurement, with the same sequence number; a record sent again (a resumed transfer
 * overlaps the last one) replaces the earlier copy, so each sequence number is kept once.
 */
export class GlucoseRecordCollector {
  private readonly bySequence = new Map<number, GlucoseRecord>();

  /** A Glucose Measurement notification; throws GlucoseDecodeError as the decoder does. */
  addMeasurement(data: DataView): GlucoseMeasurement {
    const measurement = decodeGlucoseMeasurement(data);
    this.bySequence.set(measurement.sequence, { measurement });
    return measurement;
  }

  /** A Glucose Measurement Context notification; null (and dropped) if its measurement has not come. */
  addContext(data: DataView): GlucoseMeasurementContext | null {
    const context = decodeGlucoseMeasurementContext(data);
    const record = this.bySequence.get(context.sequence);
    if (record === undefined) return null;
    record.context = context;
    return context;
  }

  /** The records so far, in sequence-number order. */
  records(): GlucoseRecord[] {
    return [...this.bySequence.values()].sort((a, b) => a.measurement.sequence - b.measurement.sequence);
  }

  get size(): number {
    return this.bySequence.size;
  }

  /** Whether a measurement announced a context that has not come. */
  private incomplete(record: GlucoseRecord): boolean {
    return record.measurement.contextFollows && record.context === undefined;
  }

  /**
   * The request that continues an interrupted transfer: the records from the one after the last
   * complete record, or all if none came. A last measurement still waiting for its context is asked
   * for again, so the context is not lost.
   */
  resumeCommand(): RacpCommand {
    const records = this.records();
    const last = records.at(-1);
    if (last === undefined) return { op: 'report-stored-records', operator: 'all' };
    const sequence = this.incomplete(last) ? last.measurement.sequence : last.measurement.sequence + 1;
    return { op: 'report-stored-records', operator: 'greater-or-equal', sequence: Math.min(sequence, 0xffff) };
  }
}
