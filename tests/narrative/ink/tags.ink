# title: Tagged reel
# wpm: 120
# pace: 0.5
# window: 12
The harbour at dawn. # clip: harbour/dawn # duration: 20
Gulls everywhere.
The ferry horn sounds. # duration: 6
Who boards first? # prompt: Who boards the ferry?
* [The captain # policy: borda]
    -> deck
* [The stowaway # default # window: 8]
    -> deck
== deck ==
The deck. # clip: ferry/deck
-> END
