// Test vectors of the email and phone normalisation, shared by the server's tests
// (app/meta/user-data.test.ts, app/meta/phone.test.ts) and the web pixel's
// (extensions/extensions.test.ts), which must agree on them.

// [raw, normalised form or undefined when it must be omitted]
export const EMAIL_CASES: Array<[string, string | undefined]> = [
  [" Jane.Doe@Example.COM ", "jane.doe@example.com"],
  ["jane+socks@example.co.uk", "jane+socks@example.co.uk"],
  ["jürgen@beispiel.de", "jürgen@beispiel.de"],
  ["jane.doe@@example", undefined],
  ["jane.doe@example", undefined],
  ["not an email", undefined],
  ["jane..doe@example.com", undefined],
  ["@example.com", undefined],
];

// [raw, address country, E.164 digits or undefined when the number must be omitted]
export const PHONE_CASES: Array<[string, string | undefined, string | undefined]> = [
  // With "+", the country does not matter.
  ["+1 (616) 954-7888", undefined, "16169547888"],
  ["+16169547888", undefined, "16169547888"],
  ["+49 30 1234567", "US", "49301234567"],
  ["+44 7700 900123", undefined, "447700900123"],
  ["+447624369230", undefined, "447624369230"],
  ["+78005553535", undefined, "78005553535"],
  ["+5491123456789", undefined, "5491123456789"],
  ["+80012345678", undefined, "80012345678"],
  // National numbers take the address's calling code.
  ["(415) 555-0132", "US", "14155550132"],
  ["415.555.0132", "us", "14155550132"],
  ["4155550132", "US", "14155550132"],
  ["030 1234567", "DE", "49301234567"],
  ["06 12 34 56 78", "FR", "33612345678"],
  ["07700 900123", "GB", "447700900123"],
  ["090-1234-5678", "JP", "819012345678"],
  ["07624369230", "GB", "447624369230"],
  ["07624369230", "IM", "447624369230"],
  ["01481123456", "GG", "441481123456"],
  ["88005553535", "RU", "78005553535"],
  ["0111523456789", "AR", "5491123456789"],
  // A 7-digit North American local number, without its area code: the library calls it
  // possible, as it always has (it cannot match anyone, but that is the library's rule).
  ["3102345", "CA", "13102345"],
  ["2345678", "VI", "13402345678"], // the library adds the Virgin Islands' one area code, 340
  ["2345678", "AG", undefined],
  ["393 123 4567", "IT", "393931234567"], // an Italian mobile starting with 39, not +39 3123 4567
  // Written with the country's own calling code but no "+": not prefixed twice.
  ["16505551212", "US", "16505551212"],
  ["1 650 555 1212", "CA", "16505551212"],
  ["49 1512 3456789", "DE", "4915123456789"],
  ["4915123456789", "DE", "4915123456789"],
  ["43 0664 123456", "AT", "43664123456"],
  ["44 7700 900123", "GB", "447700900123"],
  ["33 6 12 34 56 78", "FR", "33612345678"],
  // Another country's calling code without "+": read when it makes a valid number.
  ["49 30 1234567", "US", "49301234567"],
  // Every country's international dialling prefix, from the library's data.
  ["0011 44 20 7946 0958", "AU", "442079460958"],
  ["0021 44 20 7946 0958", "BR", "442079460958"],
  ["011 44 20 7946 0958", "US", "442079460958"],
  ["011441234567890", "US", "441234567890"],
  ["010 44 20 7946 0958", "JP", "442079460958"],
  ["00 44 20 7946 0958", "FR", "442079460958"],
  ["0044 20 7946 095", "GB", "44207946095"],
  ["0049 30 1234567", "DE", "49301234567"],
  // "00" is read as "+" when the country's own prefix is another, and without a country.
  ["0044 20 7946 0958", "AU", "442079460958"],
  ["0049 30 1234567", "US", "49301234567"],
  ["0049 30 1234567", undefined, "49301234567"],
  // No country: a national number is omitted, not guessed.
  ["(201) 555-0144", undefined, undefined], // not Egypt's +20 1555 0144
  ["16505551212", undefined, undefined],
  ["5550132", undefined, undefined],
  ["4155550132", "XX", undefined],
  ["4155550132", "001", undefined],
  ["4155550132", "", undefined],
  // Not numbers, fragments, too long.
  ["555-0132", undefined, undefined],
  ["5550132", "CA", "15550132"],
  ["12345", "US", undefined],
  ["12", "US", undefined],
  ["1", "US", undefined],
  ["call me", "US", undefined],
  ["", "US", undefined],
  ["+1", undefined, undefined],
  ["+12", undefined, undefined],
  ["+13102345", undefined, "13102345"],
  ["+0123456789", undefined, undefined],
  ["+999123456789", undefined, undefined],
  ["+1+4155550132", undefined, undefined],
  ["+49 9624", undefined, undefined],
  ["01112345678", "US", undefined],
  ["1234567890123456789", undefined, undefined],
  ["1234567890123456789", "US", undefined],
];
