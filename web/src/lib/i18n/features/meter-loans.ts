/**
 * Messages of one feature, kept apart so each feature's words change on their own. `sv` is the
 * reference (its keys join the app's message keys); `en` must have exactly the same keys.
 *
 * Lent meters (issue 15, section 5): lending a meter on, replacing one with a reason, the
 * histories per patient and per serial, and the replacements report for the supplier follow-up.
 */
export const sv = {
  'meterLoans.nav': 'Utlåning och utbyten',
  'meterLoans.retired': 'Utbytt',
  'meterLoans.lend': 'Låna ut',
  'meterLoans.replace': 'Byt ut',
  'meterLoans.reactivate': 'Återaktivera',
  'meterLoans.reactivateConfirm':
    'Återaktivera {device}? Den får en ny nyckel och kan skicka värden igen för samma patient.',
  'meterLoans.cancel': 'Avbryt',

  'meterLoans.lendHeading': 'Låna ut {device} till en annan patient',
  'meterLoans.lendIntro':
    'Mätaren flyttas till den nya patienten nu och får en ny nyckel. Värden som mätades före utlåningen ' +
    'hör till den förra patienten och tas inte emot för den nya.',
  'meterLoans.lendTo': 'Ny patient',
  'meterLoans.lendChoose': 'Välj patient',
  'meterLoans.lendSubmit': 'Låna ut mätaren',
  'meterLoans.noOtherPatients': 'Teamet har ingen annan patient att låna ut till.',

  'meterLoans.replaceHeading': 'Byt ut {device}',
  'meterLoans.replaceIntro':
    'Den nya mätaren tar över patienten med en egen nyckel. Den gamla spärras för gott och sparas med orsaken.',
  'meterLoans.newSerial': 'Den nya mätarens serienummer',
  'meterLoans.reason': 'Orsak',
  'meterLoans.reason.defect': 'Trasig',
  'meterLoans.reason.lost': 'Borttappad',
  'meterLoans.reason.complaint': 'Reklamation',
  'meterLoans.reason.battery': 'Batteri',
  'meterLoans.reason.other': 'Annat',
  'meterLoans.cause': 'Beskrivning av felet',
  'meterLoans.causeRequired': 'Krävs vid reklamation: beskriv felet för leverantören.',
  'meterLoans.replaceSubmit': 'Byt ut mätaren',

  'meterLoans.historyHeading': 'Mätarhistorik',
  'meterLoans.historyNone': 'Ingen mätarhistorik ännu.',
  'meterLoans.col.serial': 'Serienummer',
  'meterLoans.col.patient': 'Patient',
  'meterLoans.col.from': 'Från',
  'meterLoans.col.to': 'Till',
  'meterLoans.col.start': 'Hur',
  'meterLoans.col.end': 'Slut',
  'meterLoans.col.by': 'Av',
  'meterLoans.now': 'nu',
  'meterLoans.otherTeam': 'Patient i ett annat team',
  'meterLoans.start.paired': 'Parkopplad',
  'meterLoans.start.loan': 'Utlånad',
  'meterLoans.start.replacement': 'Ersatte {device}',
  'meterLoans.start.existing': 'Parkopplad (före historiken)',
  'meterLoans.end.loan': 'Utlånad vidare',
  'meterLoans.end.retired': 'Utbytt mot {device}: {reason}',
  'meterLoans.unknownUser': 'okänd',

  'meterLoans.pageHeading': 'Mätare: utlåning och utbyten',
  'meterLoans.serialHeading': 'Sök ett serienummer',
  'meterLoans.serialIntro': 'Vilka patienter har haft mätaren, när, och vem lämnade ut den.',
  'meterLoans.serialSearch': 'Visa historik',
  'meterLoans.serialNotFound': 'Ingen mätare med det serienumret i era team.',

  'meterLoans.reportHeading': 'Utbytta mätare',
  'meterLoans.reportIntro': 'Utbyten per orsak och typ under perioden, för uppföljning med leverantören.',
  'meterLoans.from': 'Från och med',
  'meterLoans.to': 'Till och med',
  'meterLoans.show': 'Visa',
  'meterLoans.filterReason': 'Visa orsak',
  'meterLoans.allReasons': 'Alla orsaker',
  'meterLoans.total': 'Totalt',
  'meterLoans.kind.bgm': 'Blodsockermätare',
  'meterLoans.kind.cgm': 'CGM-sensorer',
  'meterLoans.col.replacedAt': 'Datum',
  'meterLoans.col.kind': 'Typ',
  'meterLoans.col.reason': 'Orsak',
  'meterLoans.col.cause': 'Beskrivning',
  'meterLoans.col.old': 'Gammal mätare',
  'meterLoans.col.new': 'Ny mätare',
  'meterLoans.noReplacements': 'Inga utbyten under perioden.',
  'meterLoans.downloadCsv': 'Ladda ner CSV (utan patientuppgifter)',

  'error.code.DEVICE_RETIRED': 'Mätaren är utbytt och spärrad för gott. Parkoppla en ny mätare i stället.',
  'error.code.DEVICE_REVOKED':
    'Mätaren är återkallad. En ny nyckel väcker den inte: återaktivera den eller låna ut den uttryckligen.',
  'error.code.DEVICE_NOT_REVOKED': 'Mätaren är inte återkallad. Ge den en ny nyckel i stället.',
  'error.code.SAME_PATIENT': 'Mätaren är redan hos den patienten.',
  'error.code.BEFORE_ASSIGNMENT':
    'Värdet mättes innan mätaren kom till patienten (den var hos en annan patient då) och sparas inte.',
} as const;

export const en: Record<keyof typeof sv, string> = {
  'meterLoans.nav': 'Loans and replacements',
  'meterLoans.retired': 'Replaced',
  'meterLoans.lend': 'Lend',
  'meterLoans.replace': 'Replace',
  'meterLoans.reactivate': 'Reactivate',
  'meterLoans.reactivateConfirm':
    'Reactivate {device}? It gets a new token and can send readings again for the same patient.',
  'meterLoans.cancel': 'Cancel',

  'meterLoans.lendHeading': 'Lend {device} to another patient',
  'meterLoans.lendIntro':
    'The meter moves to the new patient now and gets a new token. Readings measured before the loan ' +
    'belong to the previous patient and are not taken for the new one.',
  'meterLoans.lendTo': 'New patient',
  'meterLoans.lendChoose': 'Choose a patient',
  'meterLoans.lendSubmit': 'Lend the meter',
  'meterLoans.noOtherPatients': 'The team has no other patient to lend it to.',

  'meterLoans.replaceHeading': 'Replace {device}',
  'meterLoans.replaceIntro':
    'The new meter takes over the patient with its own token. The old one is retired for good and kept with the reason.',
  'meterLoans.newSerial': "The new meter's serial number",
  'meterLoans.reason': 'Reason',
  'meterLoans.reason.defect': 'Defect',
  'meterLoans.reason.lost': 'Lost',
  'meterLoans.reason.complaint': 'Complaint',
  'meterLoans.reason.battery': 'Battery',
  'meterLoans.reason.other': 'Other',
  'meterLoans.cause': 'What was wrong',
  'meterLoans.causeRequired': 'Required for a complaint: describe the fault for the supplier.',
  'meterLoans.replaceSubmit': 'Replace the meter',

  'meterLoans.historyHeading': 'Meter history',
  'meterLoans.historyNone': 'No meter history yet.',
  'meterLoans.col.serial': 'Serial number',
  'meterLoans.col.patient': 'Patient',
  'meterLoans.col.from': 'From',
  'meterLoans.col.to': 'To',
  'meterLoans.col.start': 'How',
  'meterLoans.col.end': 'End',
  'meterLoans.col.by': 'By',
  'meterLoans.now': 'now',
  'meterLoans.otherTeam': "Another team's patient",
  'meterLoans.start.paired': 'Paired',
  'meterLoans.start.loan': 'Lent',
  'meterLoans.start.replacement': 'Replaced {device}',
  'meterLoans.start.existing': 'Paired (before the history)',
  'meterLoans.end.loan': 'Lent on',
  'meterLoans.end.retired': 'Replaced by {device}: {reason}',
  'meterLoans.unknownUser': 'unknown',

  'meterLoans.pageHeading': 'Meters: loans and replacements',
  'meterLoans.serialHeading': 'Look up a serial number',
  'meterLoans.serialIntro': 'Which patients had the meter, when, and who handed it over.',
  'meterLoans.serialSearch': 'Show history',
  'meterLoans.serialNotFound': 'No meter with that serial number in your teams.',

  'meterLoans.reportHeading': 'Replaced meters',
  'meterLoans.reportIntro': 'Replacements by reason and kind over the period, for the follow-up with the supplier.',
  'meterLoans.from': 'From',
  'meterLoans.to': 'To (inclusive)',
  'meterLoans.show': 'Show',
  'meterLoans.filterReason': 'Show reason',
  'meterLoans.allReasons': 'All reasons',
  'meterLoans.total': 'Total',
  'meterLoans.kind.bgm': 'Blood glucose meters',
  'meterLoans.kind.cgm': 'CGM sensors',
  'meterLoans.col.replacedAt': 'Date',
  'meterLoans.col.kind': 'Kind',
  'meterLoans.col.reason': 'Reason',
  'meterLoans.col.cause': 'Description',
  'meterLoans.col.old': 'Old meter',
  'meterLoans.col.new': 'New meter',
  'meterLoans.noReplacements': 'No replacements in the period.',
  'meterLoans.downloadCsv': 'Download CSV (no patient data)',

  'error.code.DEVICE_RETIRED': 'The meter was replaced and is retired for good. Pair a new meter instead.',
  'error.code.DEVICE_REVOKED':
    'The meter is revoked. A new token does not bring it back: reactivate it or lend it explicitly.',
  'error.code.DEVICE_NOT_REVOKED': 'The meter is not revoked. Give it a new token instead.',
  'error.code.SAME_PATIENT': 'The meter is with that patient already.',
  'error.code.BEFORE_ASSIGNMENT':
    'The reading was measured before the meter came to the patient (it was with another patient then) and is not stored.',
};
