/**
 * ISO 4217 currencies and their minor-unit digits (List One, 2025 edition). Codes whose minor
 * unit is "N.A." (gold, SDRs, test codes…) are left out: a sale is an amount of money with a
 * defined smallest unit. ICU's digits are not used because they follow cash practice (CLDR says
 * 0 for IQD, ISO says 3), and amounts here are stored in ISO minor units.
 */
import { HttpError } from '../../core/index.js';

const BY_DIGITS: Record<number, string> = {
  0: 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF',
  2: 'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW '
    + 'CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR '
    + 'IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN '
    + 'NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB '
    + 'TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG',
  3: 'BHD IQD JOD KWD LYD OMR TND',
  4: 'CLF UYW',
};

const MINOR_UNITS: ReadonlyMap<string, number> = new Map(
  Object.entries(BY_DIGITS).flatMap(([digits, codes]) => codes.split(' ').map((code) => [code, Number(digits)] as const)),
);

/** Minor-unit digits of an ISO 4217 code, or undefined when the code is not a currency of money. */
export function minorUnits(code: string): number | undefined {
  return MINOR_UNITS.get(code);
}

/** Schema of a currency field; the code list itself is checked by `requireCurrency`. */
export const currencySchema = { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217 alphabetic code, e.g. EUR' } as const;

/**
 * Checks `code` against ISO 4217 and, when the caller states them, its minor-unit digits (a client
 * that believes JPY has 2 decimals would record amounts 100 times too large). Throws 422.
 */
export function requireCurrency(code: string, statedMinorUnits?: number): number {
  const digits = minorUnits(code);
  if (digits === undefined) throw new HttpError(422, 'SALES_CURRENCY_INVALID', `${JSON.stringify(code)} is not an ISO 4217 currency with a minor unit`);
  if (statedMinorUnits !== undefined && statedMinorUnits !== digits) {
    throw new HttpError(422, 'SALES_MINOR_UNITS_MISMATCH', `${code} has ${digits} minor-unit digits, not ${statedMinorUnits}: amounts are in ${code}'s minor units`, { currency: code, minorUnits: digits });
  }
  return digits;
}

/** `12345` EUR → `"123.45"`; exact, without floating point. */
export function formatMinor(amount: number, digits: number): string {
  if (digits === 0) return String(amount);
  const sign = amount < 0 ? '-' : '';
  const text = String(Math.abs(amount)).padStart(digits + 1, '0');
  return `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`;
}
