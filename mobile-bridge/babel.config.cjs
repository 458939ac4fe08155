// Babel for the jest suite only (the package ships TypeScript sources; apps' Metro compiles them).
module.exports = { presets: ['module:@react-native/babel-preset'] };
