/**
 * Messages of one feature, kept apart so each feature's words change on their own. `sv` is the
 * reference (its keys join the app's message keys); `en` must have exactly the same keys.
 *
 * The meter page (/meter): reading a Bluetooth glucose meter and sending its values in.
 */
export const sv = {
  'nav.meter': 'Läs mätare',

  'meter.title': 'Läs mätare',
  'meter.heading': 'Läs av en blodsockermätare',
  'meter.intro':
    'Sätt mätaren i parkopplingsläge (se mätarens manual), tryck på Läs mätare och välj mätaren i listan. Värdena sedan den senaste avläsningen skickas in till teamets tavla.',
  'meter.patient': 'Patient',
  'meter.patientChoose': 'Välj patient',
  'meter.noPatients': 'Teamet har inga patienter ännu.',
  'meter.read': 'Läs mätare',
  'meter.readAgain': 'Läs igen',
  'meter.resume': 'Fortsätt läsa',
  'meter.cancel': 'Avbryt',

  'meter.phase.choosing': 'Välj mätaren i webbläsarens lista …',
  'meter.phase.connecting': 'Ansluter till mätaren …',
  'meter.phase.reading': 'Läser värden från mätaren …',
  'meter.phase.sending': 'Skickar värdena …',
  'meter.progress': '{count} värden mottagna',
  'meter.meterName': 'Mätare {serial}',
  'meter.clockDriftAhead': 'Mätarens klocka går {minutes} min före telefonens. Ställ klockan i mätaren.',
  'meter.clockDriftBehind': 'Mätarens klocka går {minutes} min efter telefonens. Ställ klockan i mätaren.',
  'meter.clockOk': 'Mätarens klocka stämmer med telefonens.',

  'meter.unpairedHeading': 'Mätaren är inte kopplad till patienten',
  'meter.unpairedAdmin': 'Mätare {serial} är inte kopplad till någon patient. Koppla den till {patient}?',
  'meter.unpairedNurse':
    'Mätare {serial} är inte kopplad till någon patient. Be en administratör i teamet att koppla den till {patient} först.',
  'meter.pair': 'Koppla mätaren till patienten',
  'meter.paired': 'Mätaren är nu kopplad till {patient}.',

  'meter.summary.heading': 'Resultat',
  'meter.summary.sent': 'Skickade',
  'meter.summary.already': 'Fanns redan',
  'meter.summary.refused': 'Avvisade',
  'meter.summary.waiting': 'Väntar på att skickas',
  'meter.summary.nothingNew': 'Inga nya värden i mätaren sedan den senaste avläsningen.',
  'meter.col.time': 'Tid',
  'meter.col.value': 'Värde',
  'meter.col.result': 'Resultat',

  'meter.status.sent': 'Skickat',
  'meter.status.already': 'Fanns redan i Glucoboard',
  'meter.status.stored': 'Finns i Glucoboard',
  'meter.status.waiting': 'Väntar – skickas när telefonen är uppkopplad',
  'meter.status.unreadable': 'Kunde inte läsas',

  'meter.value.mmol': '{mmol} mmol/L',
  'meter.value.lo': 'LO (under mätarens område)',
  'meter.value.hi': 'HI (över mätarens område)',
  'meter.value.control': 'Kontrollösning {mmol} mmol/L',
  'meter.value.controlLo': 'Kontrollösning LO',
  'meter.value.controlHi': 'Kontrollösning HI',
  'meter.value.none': 'Inget värde',
  'meter.meal.before': 'före måltid',
  'meter.meal.after': 'efter måltid',

  'meter.refused.OUT_OF_RANGE': 'Avvisat: värdet ligger utanför mätområdet 0,6–33,3 mmol/L',
  'meter.refused.FUTURE_TIMESTAMP': 'Avvisat: tiden ligger i framtiden – kontrollera mätarens klocka',
  'meter.refused.TOO_OLD': 'Avvisat: äldre än 90 dagar',
  'meter.refused.INVALID_READING': 'Avvisat: värdet kunde inte tolkas',
  'meter.refused.SEQ_CONFLICT': 'Avvisat: ett annat värde finns redan under samma löpnummer i mätaren',
  'meter.refused.BEFORE_ASSIGNMENT':
    'Avvisat: mätt innan mätaren lånades ut till patienten (en tidigare patients värde)',
  'meter.refused.other': 'Avvisat ({code})',

  'meter.unreadable.no-concentration': 'Mätaren sparade inget värde',
  'meter.unreadable.value-not-a-number': 'Mätaren sparade inget giltigt värde',
  'meter.unreadable.value-out-of-range': 'Värdet ligger utanför det en mätare visar',
  'meter.unreadable.sensor-fault': 'Mätaren markerade mätningen som felaktig (sticka, prov eller temperatur)',
  'meter.unreadable.time-unknown': 'Mätarens klocka var inte ställd',
  'meter.unreadable.time-invalid': 'Mätarens datum är ogiltigt',
  'meter.unreadable.time-not-representable': 'Mätarens tid kan inte tolkas',
  'meter.unreadable.unknown-time-zone': 'Telefonens tidszon är okänd',
  'meter.unreadable.context-mismatch': 'Måltidsuppgiften hörde till ett annat värde',
  'meter.unreadable.undecodable': 'Mätarens data kunde inte läsas',

  'meter.error.unsupported':
    'Den här webbläsaren kan inte läsa Bluetooth-mätare. Använd Chrome, Edge, Opera eller Samsung Internet på Android, eller Chrome eller Edge på en dator. Safari (iPhone, iPad, Mac) och Firefox kan inte.',
  'meter.error.bluetooth-off':
    'Bluetooth är avstängt eller saknas. Slå på Bluetooth i telefonens inställningar och försök igen.',
  'meter.error.cancelled':
    'Ingen mätare valdes. Kontrollera att Bluetooth är på i telefonen, sätt mätaren i parkopplingsläge (oftast: håll in knappen tills Bluetooth-symbolen blinkar) och tryck på Läs mätare igen.',
  'meter.error.not-allowed':
    'Webbläsaren tillät inte Bluetooth här. Öppna sidan direkt (inte i en annan app) och försök igen.',
  'meter.error.connect-failed':
    'Kunde inte ansluta till mätaren. Håll mätaren nära telefonen, sätt den i parkopplingsläge och försök igen.',
  'meter.error.no-glucose-service':
    'Den valda enheten är ingen blodsockermätare med Bluetooths standard för glukos (Glucose Service). Välj en annan mätare.',
  'meter.error.no-serial':
    'Mätaren uppger inget serienummer, så dess värden kan inte hållas isär. Den kan inte användas här.',
  'meter.error.connection-lost':
    'Anslutningen till mätaren bröts efter {count} värden. Håll mätaren nära telefonen och tryck på Fortsätt läsa.',
  'meter.error.racp-failed':
    'Mätaren vägrade skicka sina sparade värden (kod {code}). Starta om mätaren och försök igen.',
  'meter.error.timeout': 'Mätaren slutade svara. Tryck på Fortsätt läsa.',
  'meter.error.METER_UNPAIRED': 'Mätaren är inte kopplad till patienten.',
  'error.code.METER_UNPAIRED': 'Mätaren är inte kopplad till patienten.',
  'meter.error.METER_PAIRED_ELSEWHERE':
    'Mätaren är kopplad till en annan patient. Kontrollera att det är rätt patient, eller be teamet som lånat ut mätaren att koppla om den.',
  'error.code.METER_PAIRED_ELSEWHERE':
    'Mätaren är kopplad till en annan patient. Kontrollera att det är rätt patient, eller be teamet som lånat ut mätaren att koppla om den.',
  'meter.error.METER_REVOKED':
    'Mätarens koppling är återkallad. En administratör i teamet kan ge mätaren en ny nyckel under Administration.',
  'error.code.METER_REVOKED':
    'Mätarens koppling är återkallad. En administratör i teamet kan ge mätaren en ny nyckel under Administration.',
  'meter.error.METER_RETIRED': 'Mätaren är ersatt och tagen ur bruk. Använd patientens nya mätare.',
  'error.code.METER_RETIRED': 'Mätaren är ersatt och tagen ur bruk. Använd patientens nya mätare.',
  'meter.error.METER_NOT_BGM': 'Serienumret hör till en CGM-sensor, inte till en blodsockermätare.',
  'error.code.METER_NOT_BGM': 'Serienumret hör till en CGM-sensor, inte till en blodsockermätare.',
  'meter.error.DEVICE_AUTH':
    'Telefonen är inte längre kopplad till mätaren (nyckeln är bytt eller återkallad). Be teamet om en ny kopplingslänk.',
  'meter.error.NOT_FOUND': 'Patienten finns inte i dina team.',
  'meter.error.FORBIDDEN': 'Bara teamets administratörer får koppla en mätare.',
  'meter.error.other': 'Något gick fel: {message}',

  'meter.queue.waiting': '{count} värden väntar på att skickas. De skickas när telefonen är uppkopplad igen.',
  'meter.queue.sendNow': 'Skicka nu',
  'meter.offline': 'Telefonen är inte uppkopplad. Värdena sparas i telefonen och skickas senare.',

  'meter.phone.heading': 'Min mätare',
  'meter.phone.intro': 'Telefonen är kopplad till mätare {serial}. Värdena skickas till ditt vårdteam.',
  'meter.phone.unpair': 'Koppla bort telefonen',
  'meter.phone.wrongMeter': 'Den här mätaren ({serial}) är inte den som telefonen är kopplad till ({paired}).',
  'meter.signedOut':
    'Logga in för att läsa en patients mätare. Är du patient? Be ditt vårdteam om en kopplingslänk eller QR-kod till din mätare.',
  'meter.signIn': 'Logga in',

  'meter.pairPage.heading': 'Koppla telefonen till mätaren',
  'meter.pairPage.done':
    'Klart. Telefonen är kopplad till mätare {serial} och kan skicka dess värden till vårdteamet utan inloggning.',
  'meter.pairPage.open': 'Läs mätaren',
  'meter.pairPage.invalid': 'Länken saknar mätarens nyckel. Be vårdteamet om en ny kopplingslänk.',
  'meter.pairPage.install': 'Lägg gärna till sidan på hemskärmen (webbläsarens meny), så öppnar du den som en app.',

  'meter.link.heading': 'Koppla patientens telefon',
  'meter.link.intro':
    'Öppna länken eller skanna QR-koden med patientens telefon (Android: Chrome). Telefonen kan sedan läsa mätaren och skicka värdena utan inloggning. Länken innehåller nyckeln: visa den bara för patienten.',
  'meter.link.copy': 'Kopiera länken',
  'meter.link.copied': 'Länken är kopierad',
  'meter.link.qr': 'QR-kod med kopplingslänken',
} as const;

export const en: Record<keyof typeof sv, string> = {
  'nav.meter': 'Read meter',

  'meter.title': 'Read meter',
  'meter.heading': 'Read a blood glucose meter',
  'meter.intro':
    "Put the meter in pairing mode (see the meter's manual), press Read meter and pick the meter in the list. The values since the last read are sent to the team's board.",
  'meter.patient': 'Patient',
  'meter.patientChoose': 'Choose a patient',
  'meter.noPatients': 'The team has no patients yet.',
  'meter.read': 'Read meter',
  'meter.readAgain': 'Read again',
  'meter.resume': 'Resume reading',
  'meter.cancel': 'Cancel',

  'meter.phase.choosing': "Pick the meter in the browser's list …",
  'meter.phase.connecting': 'Connecting to the meter …',
  'meter.phase.reading': 'Reading values from the meter …',
  'meter.phase.sending': 'Sending the values …',
  'meter.progress': '{count} values received',
  'meter.meterName': 'Meter {serial}',
  'meter.clockDriftAhead': "The meter's clock is {minutes} min ahead of the phone's. Set the meter's clock.",
  'meter.clockDriftBehind': "The meter's clock is {minutes} min behind the phone's. Set the meter's clock.",
  'meter.clockOk': "The meter's clock agrees with the phone's.",

  'meter.unpairedHeading': 'The meter is not paired with the patient',
  'meter.unpairedAdmin': 'Meter {serial} is not paired with any patient. Pair it with {patient}?',
  'meter.unpairedNurse':
    "Meter {serial} is not paired with any patient. Ask one of the team's administrators to pair it with {patient} first.",
  'meter.pair': 'Pair the meter with the patient',
  'meter.paired': 'The meter is now paired with {patient}.',

  'meter.summary.heading': 'Results',
  'meter.summary.sent': 'Sent',
  'meter.summary.already': 'Already there',
  'meter.summary.refused': 'Refused',
  'meter.summary.waiting': 'Waiting to be sent',
  'meter.summary.nothingNew': 'No new values in the meter since the last read.',
  'meter.col.time': 'Time',
  'meter.col.value': 'Value',
  'meter.col.result': 'Result',

  'meter.status.sent': 'Sent',
  'meter.status.already': 'Already in Glucoboard',
  'meter.status.stored': 'In Glucoboard',
  'meter.status.waiting': 'Waiting – sent when the phone is online',
  'meter.status.unreadable': 'Could not be read',

  'meter.value.mmol': '{mmol} mmol/L',
  'meter.value.lo': "LO (below the meter's range)",
  'meter.value.hi': "HI (above the meter's range)",
  'meter.value.control': 'Control solution {mmol} mmol/L',
  'meter.value.controlLo': 'Control solution LO',
  'meter.value.controlHi': 'Control solution HI',
  'meter.value.none': 'No value',
  'meter.meal.before': 'before a meal',
  'meter.meal.after': 'after a meal',

  'meter.refused.OUT_OF_RANGE': 'Refused: the value is outside the measuring range 0.6–33.3 mmol/L',
  'meter.refused.FUTURE_TIMESTAMP': "Refused: the time is in the future – check the meter's clock",
  'meter.refused.TOO_OLD': 'Refused: older than 90 days',
  'meter.refused.INVALID_READING': 'Refused: the value could not be understood',
  'meter.refused.SEQ_CONFLICT': 'Refused: another value is already stored under the same record number of the meter',
  'meter.refused.BEFORE_ASSIGNMENT':
    "Refused: measured before the meter was lent to the patient (a previous patient's value)",
  'meter.refused.other': 'Refused ({code})',

  'meter.unreadable.no-concentration': 'The meter stored no value',
  'meter.unreadable.value-not-a-number': 'The meter stored no valid value',
  'meter.unreadable.value-out-of-range': 'The value is outside what a meter shows',
  'meter.unreadable.sensor-fault': 'The meter marked the measurement as faulty (strip, sample or temperature)',
  'meter.unreadable.time-unknown': "The meter's clock was not set",
  'meter.unreadable.time-invalid': "The meter's date is not valid",
  'meter.unreadable.time-not-representable': "The meter's time cannot be read",
  'meter.unreadable.unknown-time-zone': "The phone's time zone is unknown",
  'meter.unreadable.context-mismatch': 'The meal note belonged to another value',
  'meter.unreadable.undecodable': "The meter's data could not be read",

  'meter.error.unsupported':
    'This browser cannot read Bluetooth meters. Use Chrome, Edge, Opera or Samsung Internet on Android, or Chrome or Edge on a computer. Safari (iPhone, iPad, Mac) and Firefox cannot.',
  'meter.error.bluetooth-off': "Bluetooth is off or missing. Turn Bluetooth on in the phone's settings and try again.",
  'meter.error.cancelled':
    "No meter was picked. Check that the phone's Bluetooth is on, put the meter in pairing mode (usually: hold the button until the Bluetooth symbol blinks) and press Read meter again.",
  'meter.error.not-allowed':
    'The browser did not allow Bluetooth here. Open the page directly (not inside another app) and try again.',
  'meter.error.connect-failed':
    'Could not connect to the meter. Hold it near the phone, put it in pairing mode and try again.',
  'meter.error.no-glucose-service':
    "The device picked is not a blood glucose meter with Bluetooth's standard for glucose (Glucose Service). Pick another meter.",
  'meter.error.no-serial':
    'The meter does not tell its serial number, so its values cannot be kept apart. It cannot be used here.',
  'meter.error.connection-lost':
    'The connection to the meter was lost after {count} values. Hold the meter near the phone and press Resume reading.',
  'meter.error.racp-failed':
    'The meter refused to send its stored values (code {code}). Restart the meter and try again.',
  'meter.error.timeout': 'The meter stopped answering. Press Resume reading.',
  'meter.error.METER_UNPAIRED': 'The meter is not paired with the patient.',
  'error.code.METER_UNPAIRED': 'The meter is not paired with the patient.',
  'meter.error.METER_PAIRED_ELSEWHERE':
    'The meter is paired with another patient. Check that this is the right patient, or ask the team that lent the meter to pair it anew.',
  'error.code.METER_PAIRED_ELSEWHERE':
    'The meter is paired with another patient. Check that this is the right patient, or ask the team that lent the meter to pair it anew.',
  'meter.error.METER_REVOKED':
    "The meter's pairing was revoked. A team administrator can give the meter a new token under Administration.",
  'error.code.METER_REVOKED':
    "The meter's pairing was revoked. A team administrator can give the meter a new token under Administration.",
  'meter.error.METER_RETIRED': "The meter was replaced and is retired. Use the patient's new meter.",
  'error.code.METER_RETIRED': "The meter was replaced and is retired. Use the patient's new meter.",
  'meter.error.METER_NOT_BGM': 'The serial number belongs to a CGM sensor, not to a blood glucose meter.',
  'error.code.METER_NOT_BGM': 'The serial number belongs to a CGM sensor, not to a blood glucose meter.',
  'meter.error.DEVICE_AUTH':
    'The phone is no longer paired with the meter (its token was replaced or revoked). Ask the team for a new pairing link.',
  'meter.error.NOT_FOUND': 'The patient is not in your teams.',
  'meter.error.FORBIDDEN': "Only the team's administrators may pair a meter.",
  'meter.error.other': 'Something went wrong: {message}',

  'meter.queue.waiting': '{count} values are waiting to be sent. They are sent when the phone is online again.',
  'meter.queue.sendNow': 'Send now',
  'meter.offline': 'The phone is offline. The values are kept on the phone and sent later.',

  'meter.phone.heading': 'My meter',
  'meter.phone.intro': 'This phone is paired with meter {serial}. The values are sent to your care team.',
  'meter.phone.unpair': 'Unpair this phone',
  'meter.phone.wrongMeter': 'This meter ({serial}) is not the one the phone is paired with ({paired}).',
  'meter.signedOut':
    "Sign in to read a patient's meter. Are you a patient? Ask your care team for a pairing link or QR code for your meter.",
  'meter.signIn': 'Sign in',

  'meter.pairPage.heading': 'Pair this phone with the meter',
  'meter.pairPage.done':
    'Done. This phone is paired with meter {serial} and can send its values to the care team without signing in.',
  'meter.pairPage.open': 'Read the meter',
  'meter.pairPage.invalid': "The link lacks the meter's token. Ask the care team for a new pairing link.",
  'meter.pairPage.install': "Add the page to the home screen (the browser's menu) to open it like an app.",

  'meter.link.heading': "Pair the patient's phone",
  'meter.link.intro':
    "Open the link or scan the QR code with the patient's phone (Android: Chrome). The phone can then read the meter and send the values without signing in. The link holds the token: show it to the patient only.",
  'meter.link.copy': 'Copy the link',
  'meter.link.copied': 'The link is copied',
  'meter.link.qr': 'QR code with the pairing link',
};
